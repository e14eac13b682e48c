# frozen_string_literal: true

# A Rails app with Tasker inside, as small as Rails allows (one file): an engine per process, GET /health for the
# load balancer and monitoring, POST /orders to run an order-fulfillment workflow, GET /orders/:id to read it.
#
#   TASKER_LIBRARY_PATH=$PWD/artifacts/lib/linux-x64/libtasker.so rackup examples/ruby/rails_app/config.ru -p 3000
#   curl localhost:3000/health
#   curl -X POST localhost:3000/orders -H 'content-type: application/json' -d '{"order": {"id": 7, "total": 10, "items": [{"sku": "A", "quantity": 1}]}}'
#
# DATABASE_URL=postgres://... selects PostgreSQL. In a real app the workflow runs in Sidekiq
# (Tasker::Sidekiq::HandleTaskJob.perform_async(task.uuid)); here it runs inline so the example needs no Redis.
require "action_controller/railtie"
$LOAD_PATH.unshift File.expand_path("../../../bindings/ruby/lib", __dir__)
require "tasker"

module OrderWorkflow
  TEMPLATE = File.expand_path("../../templates/order_fulfillment.yaml", __dir__)

  class ValidateOrder < Tasker::StepHandler
    def process(context) = { "valid" => true, "total" => context.task.context.dig("order", "total") }
  end

  class ReserveInventory < Tasker::StepHandler
    def process(context) = { "reservation" => "RSV-#{context.task.context.dig('order', 'id')}" }
  end

  class ProcessPayment < Tasker::StepHandler
    def process(context) = { "charged" => context.dependency_results["validate_order"]["total"] }
  end

  class ShipOrder < Tasker::StepHandler
    def process(context) = { "tracking" => "TRK-#{context.task.context.dig('order', 'id')}" }
  end

  # One engine per process, opened on first use: under Puma or Unicorn that is after the fork, in each worker.
  def self.engine
    @mutex.synchronize do
      @engine ||= Tasker::Engine.new(database_url: ENV.fetch("DATABASE_URL", nil)).tap do |engine|
        engine.register_template(TEMPLATE)
        # The template's callables are the bare class names (register_handlers would use OrderWorkflow::...).
        [ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder].each do |klass|
          engine.register_handler(klass.name.split("::").last, klass)
        end
      end
    end
  end
  @mutex = Mutex.new
end

class TaskerRailsApp < Rails::Application
  config.root = __dir__
  config.eager_load = false
  config.api_only = true
  config.logger = Logger.new($stdout)
  config.log_level = :warn
  config.secret_key_base = ENV.fetch("SECRET_KEY_BASE", "tasker-example-not-secret" * 3)
  config.hosts.clear

  routes.append do
    get "/health" => "health#show"
    post "/orders" => "orders#create"
    get "/orders/:id" => "orders#show"
  end
end

# GET /health: the engine's health and stats; 503 when the store is unreachable.
class HealthController < ActionController::API
  def show
    health = OrderWorkflow.engine.health
    render json: health, status: health["healthy"] ? :ok : :service_unavailable
  end
end

class OrdersController < ActionController::API
  rescue_from(Tasker::ValidationError) { |e| render json: { error: e.message }, status: :bad_request }
  rescue_from(Tasker::NotFoundError) { |e| render json: { error: e.message }, status: :not_found }

  def create
    order = params.require(:order).permit(:id, :total, items: %i[sku quantity price]).to_h
    engine = OrderWorkflow.engine
    trace = { traceparent: request.headers["traceparent"] }.compact # the caller's W3C trace context, if any
    task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: { "order" => order },
                                                   initiator: "rails", **trace)
    outcome = engine.handle(task.uuid, **trace)
    render json: { task_uuid: task.uuid, action: outcome.action, task_state: outcome.task_state }, status: :created,
           location: "/orders/#{task.uuid}"
  end

  def show
    task = OrderWorkflow.engine.get_task(params[:id])
    render json: { task_uuid: task.uuid, state: task.state,
                   steps: task.steps.map { |s| s.slice("name", "state", "attempts", "result") } }
  end
end

TaskerRailsApp.initialize!
