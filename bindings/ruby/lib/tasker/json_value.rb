# frozen_string_literal: true

module Tasker
  # Converts a handler's output (or a task context) to plain JSON values, refusing what JSON cannot represent
  # instead of writing its `to_s`. Symbols become strings; objects with `as_json` (ActiveSupport) are converted.
  # Size and nesting limits are the core's (it refuses a result nested deeper than 64 levels, and `handle` reports
  # that as the step's failure); here only a cycle, which would never end, is refused.
  module JsonValue
    module_function

    def convert(value, path, open = nil)
      case value
      when nil, true, false, String, Integer then value
      when Float then value.finite? ? value : raise(TypeError, "#{path} is #{value}, which JSON cannot represent")
      when Symbol then value.to_s
      when Hash then nested(value, path, open) { |inner| value.to_h { |k, item| [key_text(k, path), convert(item, "#{path}.#{k}", inner)] } }
      when Array then nested(value, path, open) { |inner| value.each_with_index.map { |item, i| convert(item, "#{path}[#{i}]", inner) } }
      else
        raise TypeError, "#{path} is a #{class_of(value)}, which is not JSON-serializable" unless Object === value && value.respond_to?(:as_json)

        convert(value.as_json, path, open)
      end
    end

    # A BasicObject has neither `class` nor `respond_to?`; its singleton class's superclass is its class.
    def class_of(value) = Object === value ? value.class : (class << value; self; end).superclass

    # `open`: the containers being converted around this one (by identity); meeting one again is a cycle.
    def nested(container, path, open)
      open ||= {}.compare_by_identity
      raise TypeError, "#{path} contains itself (a cycle), which JSON cannot represent" if open.key?(container)

      open[container] = true
      begin
        yield open
      ensure
        open.delete(container)
      end
    end

    def key_text(key, path)
      return key.to_s if key.is_a?(String) || key.is_a?(Symbol)

      raise TypeError, "#{path} has a #{key.class} key (#{key.inspect}); JSON object keys are strings"
    end
  end
end
