# frozen_string_literal: true

require_relative "spec_helper"
require_relative "support/http_stub"
require_relative "fixtures/migration/handlers"

# docs/migrating-from-rails-tasker.md, executed: a Rails Tasker template (shaped like its YAML example) and Rails
# Tasker handlers, unchanged, on Tasker Native: loaded, its context validated, its environment's overrides and
# ${VAR} placeholders applied, and run to completion.
RSpec.describe "migrating a Rails Tasker workflow" do
  TEMPLATE_PATH = File.expand_path("fixtures/migration/checkout_example.yaml", __dir__)
  HANDLERS = [ShopTask::StepHandler::LoadBasketHandler, ShopTask::StepHandler::LoadItemsHandler,
              ShopTask::StepHandler::CheckItemsHandler, ShopTask::StepHandler::PlaceOrderHandler,
              ShopTask::StepHandler::AnnounceOrderHandler].freeze

  let(:stub) do
    HttpStub.new("/shop/basket" => [[200, { "Content-Type" => "application/json" }, { "skus" => %w[A B] }]],
                 "/shop/items" => [[200, {}, { "items" => [{ "sku" => "A", "price" => 5, "in_stock" => true },
                                                           { "sku" => "B", "price" => 7, "in_stock" => true }] }]])
  end

  around do |example|
    saved = ENV.to_h.slice("SHOP_API_URL", "SHOP_API_KEY")
    example.run
  ensure
    %w[SHOP_API_URL SHOP_API_KEY].each { |name| saved.key?(name) ? ENV[name] = saved[name] : ENV.delete(name) }
    stub.close
  end

  def open_engine(environment)
    ENV["SHOP_API_URL"] = stub.url("/shop")
    Tasker::Engine.open(clock: "manual", environment: environment) { |engine| yield engine }
  end

  it "runs in production with the production overrides and the API key from the environment" do
    ENV["SHOP_API_KEY"] = "key-from-env"
    open_engine("production") do |engine|
      registered = engine.register_template(TEMPLATE_PATH)
      expect(registered).to include("name" => "shop_task/checkout_example", "namespace" => "shop_tests",
                                    "module_namespace" => "ShopTask", "task_handler_class" => "CheckoutExample",
                                    "concurrent" => true, "default_dependent_system" => "storefront",
                                    "environment" => "production", "has_input_schema" => true)
      expect(registered["step_details"].map { |s| s["dependent_system"] }).to eq(%w[storefront catalog storefront storefront storefront])
      expect(registered.to_s).not_to include("key-from-env") # handler configuration is never echoed
      engine.register_handlers(HANDLERS)

      expect { engine.create_task("shop_task/checkout_example", namespace: "shop_tests", context: { basket_id: "x" }) }
        .to raise_error(Tasker::ValidationError, /\$\.basket_id: Value is "string" but should be "integer"/)

      task = engine.create_task("shop_task/checkout_example", namespace: "shop_tests", context: { basket_id: 42 })
      expect(engine.handle(task.uuid).action).to eq("complete")
      results = engine.get_task(task.uuid).steps.to_h { |s| [s["name"], s["result"]] }
      expect(results["place_order"]).to eq("order_id" => "ORD-42", "total" => 12)
      expect(results["announce_order"]).to eq("announced" => "ORD-42")
      queries = stub.recorded.to_h { |r| [r[:path], r[:query]] }
      expect(queries).to eq("/shop/basket" => { "api_key" => "key-from-env", "basket_id" => "42" },
                            "/shop/items" => { "api_key" => "key-from-env", "basket_id" => "42" })
    end
  end

  it "applies the development overrides instead, and needs no API key there" do
    ENV.delete("SHOP_API_KEY")
    open_engine("development") do |engine|
      engine.register_template(TEMPLATE_PATH)
      engine.register_handlers(HANDLERS)
      task = engine.create_task("shop_task/checkout_example", namespace: "shop_tests", context: { basket_id: 1 },
                                                              bypass_steps: ["announce_order"])
      expect(engine.handle(task.uuid).action).to eq("complete")
      expect(stub.recorded.map { |r| r[:query] }).to contain_exactly({ "debug" => "true", "basket_id" => "1" }, { "basket_id" => "1" })
    end
  end

  it "refuses to register in production without the API key, naming the variable and not leaking values" do
    ENV.delete("SHOP_API_KEY")
    open_engine("production") do |engine|
      expect { engine.register_template(TEMPLATE_PATH) }.to raise_error(Tasker::ValidationError) { |error|
        expect(error.message).to include("environment variable SHOP_API_KEY is not set (used in step_templates[0].handler_config.params.api_key)")
        expect(error.message).not_to include(stub.url)
      }
    end
  end
end
