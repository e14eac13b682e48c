# frozen_string_literal: true

require_relative "spec_helper"

# The views the engine's answers become: a created task (decoded when first read beyond its uuid), a step's context
# (built member by member).
RSpec.describe "views", :engine do
  let(:engine) { @engine }

  before { engine.register_template(ORDER_TEMPLATE) }

  it "reads a created task as the same task get_task returns" do
    created = create_order(engine, tags: ["web"])
    fetched = engine.get_task(created.uuid)
    expect([created.uuid, created.created, created.namespace, created.name, created.version, created.state])
      .to eq([fetched.uuid, true, "fulfillment", "order_fulfillment", "1.0.0", "pending"])
    expect(created.context).to eq(ORDER_CONTEXT)
    expect(created.steps.map { |s| s["name"] }).to eq(fetched.steps.map { |s| s["name"] })
    expect(created.step("validate_order")["state"]).to eq("pending")
    expect(created.waiting_for_handlers).to eq(fetched.waiting_for_handlers)
    expect(created.raw["tags"]).to eq(["web"])
    expect(created.raw).to equal(created.raw) # decoded once
    expect(created.inspect).to eq("#<Tasker::Task #{created.uuid} pending>")
  end

  it "says a repeated create with the same idempotency key created nothing" do
    first = create_order(engine, idempotency_key: "order-7")
    again = create_order(engine, idempotency_key: "order-7")
    expect([again.uuid, first.created, again.created]).to eq([first.uuid, true, false])
    expect(again.state).to eq("pending")
  end

  it "decodes a create answer in another field order whole" do
    task = { "state" => "pending", "task_uuid" => "01a233d6-1e3f-7afa-b6e2-fa581bc5ea77", "namespace" => "n", "name" => "t",
             "version" => "1.0.0", "context" => {}, "steps" => [] }
    view = Tasker::Task.from_create_answer(JSON.generate("task" => task, "created" => false))
    expect([view.uuid, view.created, view.state, view.raw]).to eq([task["task_uuid"], false, "pending", task])
  end

  it "decodes an answer whose front is not followed by a uuid whole" do
    text = %({"created":true,"task":{"task_uuid":"short","state":"pending"}})
    expect(Tasker::Task.from_create_answer(text).then { |t| [t.uuid, t.created, t.state] }).to eq(["short", true, "pending"])
  end

  it "keeps a task read-only" do
    task = create_order(engine)
    %i[uuid= state= namespace= name= version= context= steps= transitions= raw= waiting_for_handlers=].each do |setter|
      expect(task).not_to respond_to(setter)
    end
  end

  it "gives a handler a context with every member of its Structs" do
    seen = []
    engine.register_template("name: look\nnamespace_name: views\nversion: 1.0.0\nsteps:\n" \
                             "  - name: a\n    handler: { callable: Look }\n    timeout_seconds: 60\n")
    look = handler do |context|
      seen << context
      nil
    end
    engine.register_handler("Look", look)
    uuid = engine.create_task("look", namespace: "views", context: { "k" => 1 }, tags: ["t"]).uuid
    expect(engine.handle(uuid).action).to eq("complete")
    context = seen.first
    expect(context.task.to_h).to eq(uuid: uuid, namespace: "views", name: "look", version: "1.0.0", context: { "k" => 1 }, tags: ["t"])
    expect(context.step.to_h.except(:uuid)).to eq(name: "a", handler: "Look", attempt: 1, max_attempts: context.step.max_attempts,
                                                  initialization: {})
    expect(context.step.uuid).to eq(engine.get_task(uuid).step("a")["step_uuid"])
    expect([context.dependency_results, context.attributes, context.claim_token.class, context.deadline.class])
      .to eq([{}, {}, String, Time])
    expect(context.task_fetchable?).to be(true)
  end

  it "gives every step its task, also the steps claimed by a report (whose answers carry the task's uuid alone)" do
    engine.register_template("name: chain\nnamespace_name: views\nversion: 1.0.0\nsteps:\n" \
                             "  - name: a\n    handler: { callable: Look }\n" \
                             "  - name: b\n    handler: { callable: Look }\n    dependencies: [a]\n" \
                             "  - name: c\n    handler: { callable: Look }\n    dependencies: [b]\n")
    seen = []
    look = handler do |context|
      seen << [context.step.name, Marshal.load(Marshal.dump(context.task.to_h))]
      context.task.context["changed_by"] = context.step.name # this step's copy: the next step does not see it
      context.task.tags << context.step.name
      nil
    end
    engine.register_handler("Look", look)
    uuid = engine.create_task("chain", namespace: "views", context: { "k" => 1 }, tags: ["t"]).uuid
    expect(engine.handle(uuid).action).to eq("complete")
    task = { uuid: uuid, namespace: "views", name: "chain", version: "1.0.0", context: { "k" => 1 }, tags: ["t"] }
    expect(seen).to eq(%w[a b c].map { |name| [name, task] })
  end
end
