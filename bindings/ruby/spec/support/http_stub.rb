# frozen_string_literal: true

require "socket"
require "json"
require "uri"

# A real HTTP/1.1 server on a loopback port (plain TCPServer: no gem needed), for the Api handler specs. Each path
# answers with a list of [status, headers, body] responses, one per request (the last one repeats); every request
# is recorded with its method, path, query and headers.
class HttpStub
  attr_reader :requests, :port

  def initialize(routes)
    @routes = routes
    @hits = Hash.new(0)
    @requests = Queue.new
    @server = TCPServer.new("127.0.0.1", 0)
    @port = @server.addr[1]
    @thread = Thread.new { loop { serve(@server.accept) } rescue IOError }
  end

  def url(path = "") = "http://127.0.0.1:#{port}#{path}"

  def recorded = Array.new(requests.size) { requests.pop }

  def close
    @server.close
    @thread.join(2)
  end

  private

  def serve(socket)
    line = socket.gets or return socket.close
    verb, target, = line.split(" ")
    headers = {}
    while (header = socket.gets) && header != "\r\n"
      name, value = header.split(":", 2)
      headers[name.downcase] = value.strip
    end
    body = headers["content-length"] ? socket.read(headers["content-length"].to_i) : nil
    uri = URI(target)
    @requests << { method: verb, path: uri.path, query: URI.decode_www_form(uri.query || "").to_h, headers: headers, body: body }
    answers = @routes.fetch(uri.path, [[404, {}, "no route"]])
    status, extra, text = answers[[@hits[uri.path], answers.size - 1].min]
    @hits[uri.path] += 1
    text = JSON.generate(text) unless text.is_a?(String)
    socket.write("HTTP/1.1 #{status} X\r\nContent-Length: #{text.bytesize}\r\nConnection: close\r\n")
    extra.each { |name, value| socket.write("#{name}: #{value}\r\n") }
    socket.write("\r\n#{text}")
    socket.close
  end
end
