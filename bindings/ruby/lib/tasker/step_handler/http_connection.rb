# frozen_string_literal: true

require "json"
require "net/http"
require "uri"

module Tasker
  class StepHandler
    # The part of Faraday's connection API that Rails Tasker Api handlers use, on Ruby's Net::HTTP (no gem to
    # install): `get/delete(path, params, headers)` and `post/put/patch(path, body, headers)` relative to the base
    # url, default params and headers from handler_config, Hash bodies sent as JSON.
    class HttpConnection
      Response = Struct.new(:status, :headers, :body, :request_line, keyword_init: true) do
        def success? = (200..299).cover?(status)
      end

      attr_reader :url_prefix, :params, :headers

      def initialize(url:, params: {}, headers: {}, ssl: nil, open_timeout: 5, timeout: 30)
        @url_prefix = URI(url.to_s)
        raise ArgumentError, "handler_config url must be http or https, not #{@url_prefix.scheme.inspect}" unless %w[http https].include?(@url_prefix.scheme)

        @params = (params || {}).to_h
        @headers = (headers || {}).to_h
        @ssl = ssl || {}
        @open_timeout = open_timeout
        @timeout = timeout
      end

      %i[get delete head].each do |verb|
        define_method(verb) { |path = nil, params = nil, headers = nil| run(verb, path, params, nil, headers) }
      end

      %i[post put patch].each do |verb|
        define_method(verb) { |path = nil, body = nil, headers = nil| run(verb, path, nil, body, headers) }
      end

      private

      def run(verb, path, params, body, headers)
        uri = build_uri(path, params)
        request = Net::HTTP.const_get(verb.to_s.capitalize).new(uri)
        @headers.merge((headers || {}).to_h).each { |name, value| request[name.to_s] = value.to_s }
        unless body.nil?
          request.body = body.is_a?(String) ? body : JSON.generate(body)
          request["Content-Type"] ||= "application/json"
        end
        http = Net::HTTP.new(uri.host, uri.port)
        http.use_ssl = uri.scheme == "https"
        http.verify_mode = OpenSSL::SSL::VERIFY_NONE if http.use_ssl? && ssl_verify == false
        http.open_timeout = @open_timeout
        http.read_timeout = @timeout
        response = http.start { |connection| connection.request(request) }
        Response.new(status: response.code.to_i, headers: response.each_header.to_h.merge(titled(response)),
                     body: response.body, request_line: "#{verb.to_s.upcase} #{uri.scheme}://#{uri.host}:#{uri.port}#{uri.path}")
      end

      def ssl_verify
        value = @ssl[:verify] || @ssl["verify"]
        value.nil? ? true : value
      end

      # Net::HTTP lower-cases header names; Faraday users read response.headers["Retry-After"].
      def titled(response) = response.each_header.to_h { |name, value| [name.split("-").map(&:capitalize).join("-"), value] }

      def build_uri(path, params)
        base = @url_prefix.dup
        base.path = "#{base.path}/" unless base.path.end_with?("/") || path.nil? || path.to_s.start_with?("/")
        uri = path.nil? || path.to_s.empty? ? @url_prefix.dup : URI.join(base.to_s, path.to_s)
        query = URI.decode_www_form(uri.query || "").to_h.merge(@params.transform_keys(&:to_s))
        query = query.merge((params || {}).to_h.transform_keys(&:to_s))
        uri.query = query.empty? ? nil : URI.encode_www_form(query)
        uri
      end
    end
  end
end
