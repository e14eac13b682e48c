# frozen_string_literal: true

require_relative "spec_helper"
require "open3"
require "rbconfig"

# spec/fixtures/rails_app: a Rails 6.1 app (Debian's railties and activerecord, SQLite) with `gem "tasker-native"`
# in its Gemfile and nothing else: Bundler.require loads the engine, the Railtie wraps handler runs in the Rails
# executor, and Rails Tasker handlers query ActiveRecord in a 4-way fan-out on a pool of 2 connections.
RSpec.describe "a Rails app under Bundler.require" do
  RAILS_APP_DIR = File.expand_path("fixtures/rails_app", __dir__)

  def run_report(env = {})
    Dir.mktmpdir("tasker-rails-app") do |dir|
      FileUtils.cp_r("#{RAILS_APP_DIR}/.", dir)
      environment = {
        "BUNDLE_GEMFILE" => File.join(dir, "Gemfile"), "TASKER_GEM_PATH" => File.expand_path("..", __dir__),
        "SHOP_DB" => File.join(dir, "shop.sqlite3"), "RAILS_ENV" => "development", "RUBYOPT" => "-rbundler/setup",
        "BUNDLE_APP_CONFIG" => File.join(dir, ".bundle")
      }.merge(env)
      out, err, status = Open3.capture3(environment, RbConfig.ruby, "run_report.rb", chdir: dir)
      raise "the app failed (#{status.exitstatus}): #{err}\n#{out}" unless status.success?

      JSON.parse(out.lines.last)
    end
  end

  it "loads the engine through Bundler.require and runs the fan-out on a pool of 2" do
    report = run_report
    expect(report["gem_loaded_by_bundler"]).to be(true)
    expect(report["action"]).to eq("complete"), report.inspect
    expect(report["states"].values.uniq).to eq(["complete"])
    expect(report["sum"]).to eq("total" => 7, "in_database" => 7)
    expect(report["pool"]).to include("size" => 2, "busy" => 0, "dead" => 0)
  end

  it "fails the way the issue saw without the executor wrapper (the control)" do
    report = run_report("WITHOUT_EXECUTOR" => "1")
    expect(report["action"]).not_to eq("complete")
    expect(report["errors"]).to include("ActiveRecord::ConnectionTimeoutError")
  end

  it "defaults an engine's concurrency to the pool size and its environment to Rails.env (RAILS_ENV unset)" do
    report = run_report("REPORT" => "defaults", "RAILS_ENV" => nil, "RACK_ENV" => nil, "TASKER_ENV" => nil)
    expect(report).to eq("concurrency" => 2, "which" => "development", "rails_env" => "development", "explicit" => 3)
  end

  it "lets handler threads autoload while a request thread waits in handle" do
    report = run_report("REPORT" => "request")
    expect(report["deadlock"]).to be(false)
    expect(report["action"]).to eq("complete")
    expect(report["results"]).to include({ "ran_on" => "pool", "colors" => 4 })
  end

  it "deadlocks without the Railtie's permit_concurrent_loads around the wait (the control)" do
    expect(run_report("REPORT" => "request", "WITHOUT_PERMIT" => "1")["deadlock"]).to be(true)
  end
end
