# frozen_string_literal: true

require_relative "spec_helper"
require "rack/mock"

# examples/ruby/rails_app: a real Rails 6.1 app (Debian's ruby-railties) driven through Rack, in process.
RSpec.describe "the Rails example" do
  before(:all) do
    require File.join(REPO, "examples", "ruby", "rails_app", "app")
  end

  let(:app) { Rack::MockRequest.new(Rails.application) }

  def json(response) = JSON.parse(response.body)

  it "serves the engine's health at /health" do
    response = app.get("/health")
    expect(response.status).to eq(200)
    expect(json(response)).to include("healthy" => true, "store" => "memory")
    expect(json(response)["tasks"]).to be_a(Hash)
  end

  it "runs an order to completion on POST /orders and shows it at /orders/:id, and health counts it" do
    before = json(app.get("/health"))["tasks"]["complete"]
    response = app.post("/orders", "CONTENT_TYPE" => "application/json", input: JSON.generate(order: { id: 7, total: 10, items: [{ sku: "A", quantity: 1 }] }))
    expect(response.status).to eq(201), response.body
    body = json(response)
    expect(body).to include("action" => "complete", "task_state" => "complete")
    expect(response.headers["Location"]).to eq("/orders/#{body['task_uuid']}")

    task = json(app.get("/orders/#{body['task_uuid']}"))
    expect(task["steps"].map { |s| [s["name"], s["state"]] }).to eq(
      [%w[validate_order complete], %w[reserve_inventory complete], %w[process_payment complete], %w[ship_order complete]]
    )
    expect(task["steps"].last["result"]).to eq("tracking" => "TRK-7")
    expect(json(app.get("/health"))["tasks"]["complete"]).to eq(before + 1)
  end

  it "answers 400 for a malformed traceparent and 404 for an unknown task" do
    bad = app.post("/orders", "CONTENT_TYPE" => "application/json", "HTTP_TRACEPARENT" => "nonsense",
                              input: JSON.generate(order: { id: 8, total: 1, items: [{ sku: "A", quantity: 1 }] }))
    expect(bad.status).to eq(400)
    expect(json(bad)["error"]).to match(/traceparent/)
    expect(app.get("/orders/0190a8b2-7c1e-7000-8000-000000000000").status).to eq(404)
  end
end
