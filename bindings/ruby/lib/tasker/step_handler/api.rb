# frozen_string_literal: true

require "json"
require "time"
require_relative "base"

module Tasker
  class StepHandler
    # Loaded on first use: it requires net/http (with socket, uri and zlib, about 2 MB a process), which every
    # Sidekiq process that requires tasker would otherwise pay without ever making a request.
    autoload :HttpConnection, File.expand_path("http_connection", __dir__)

    # Rails Tasker's HTTP step handler. The step's handler_config gives the connection (url, params, headers,
    # timeouts); a subclass makes the request with `connection` in `process(task, sequence, step)` (or `call`, as
    # older Rails Tasker handlers do) and returns the response:
    #
    #   class FetchCart < Tasker::StepHandler::Api
    #     def process(task, _sequence, _step)
    #       connection.get("cart", cart_id: task.context["cart_id"])
    #     end
    #   end
    #
    # A 2xx response's JSON body (else its text) becomes the step's results. 429 and 503 are retryable failures,
    # after the server's Retry-After when it sends one; any other 4xx is permanent (retrying cannot fix the
    # request); 5xx and network errors are retryable. Error messages name the method, URL path and status, never
    # query parameters or headers (they may carry keys).
    class Api < Base
      BACKOFF_ERROR_CODES = [429, 503].freeze
      SUCCESS_CODES = (200..226)

      # handler_config for an Api step. `type` (Rails Tasker's "api") is accepted and ignored.
      class Config
        KEYS = %i[url params ssl headers retry_delay enable_exponential_backoff jitter_factor open_timeout timeout type].freeze
        attr_accessor :url, :params, :ssl, :headers, :retry_delay, :enable_exponential_backoff, :jitter_factor,
                      :open_timeout, :timeout

        def initialize(url:, params: {}, ssl: nil, headers: nil, retry_delay: 1.0, enable_exponential_backoff: true,
                       jitter_factor: nil, open_timeout: 5, timeout: 30, type: nil)
          @url = url
          @params = params || {}
          @ssl = ssl
          @headers = headers || default_headers
          @retry_delay = retry_delay
          @enable_exponential_backoff = enable_exponential_backoff
          @jitter_factor = jitter_factor
          @open_timeout = open_timeout
          @timeout = timeout
          _ = type
        end

        def default_headers = { "Content-Type" => "application/json", "Accept" => "application/json" }
      end

      # Builds a Config from a step's handler_config; an unknown or missing key is a permanent failure naming it.
      def self.build_config(handler_config)
        return handler_config if handler_config.is_a?(Config)

        options = handler_config.to_h.transform_keys(&:to_sym)
        unknown = options.keys - Config::KEYS
        raise PermanentError, "#{name}: unknown handler_config keys: #{unknown.join(', ')} (known: #{Config::KEYS.join(', ')})" if unknown.any?
        raise PermanentError, "#{name}: handler_config needs a url" unless options[:url]

        Config.new(**options)
      end

      attr_reader :config

      def initialize(config: nil, &block)
        config = self.class.build_config(config) if config
        super(config: config)
        @connection_block = block
      end

      # A Faraday-like connection (get/post/put/patch/delete) on Net::HTTP, built from the config.
      def connection
        raise PermanentError, "#{self.class.name}: no handler_config with a url for this step" unless config

        @connection ||= HttpConnection.new(url: config.url, params: config.params, headers: config.headers,
                                           ssl: config.ssl, open_timeout: config.open_timeout, timeout: config.timeout)
      end

      def handle(task, sequence, step)
        initial_results = step.results
        response = request(task, sequence, step)
        check_response!(response)
        process_results(step, response, initial_results)
        response
      end

      # Stores the response body (JSON parsed when it is JSON) unless the handler set step.results itself.
      def process_results(step, process_output, initial_results)
        return if step.results != initial_results

        step.results = process_output.respond_to?(:status) && process_output.respond_to?(:body) ? body_of(process_output) : process_output
      end

      def call(_task, _sequence, _step)
        raise NotImplementedError, "#{self.class.name} must implement process(task, sequence, step) (or call)"
      end

      private

      def request(task, sequence, step)
        overridden = ->(name) { ![Api, Base].include?(self.class.instance_method(name).owner) }
        overridden.call(:process) ? process(task, sequence, step) : call(task, sequence, step)
      end

      def check_response!(response)
        return unless response.respond_to?(:status)

        status = response.status.to_i
        return if SUCCESS_CODES.cover?(status)

        what = "HTTP #{status} from #{response.respond_to?(:request_line) ? response.request_line : 'the API'}"
        if BACKOFF_ERROR_CODES.include?(status)
          raise RetryableError.new("#{what}: backing off", retry_after: retry_after(response))
        end
        raise PermanentError, what if (400..499).cover?(status)

        raise RetryableError, what
      end

      # Retry-After as seconds or an HTTP date; nil (the engine's backoff) when absent or unreadable.
      def retry_after(response)
        value = response.headers["Retry-After"] || response.headers["retry-after"]
        return nil if value.nil? || value.to_s.strip.empty?
        return value.to_i if value.to_s.strip.match?(/\A\d+\z/)

        [(Time.httpdate(value.to_s) - Time.now).ceil, 0].max
      rescue ArgumentError
        nil
      end

      def body_of(response)
        text = response.body.to_s
        JSON.parse(text)
      rescue JSON::ParserError
        text
      end
    end
  end
end
