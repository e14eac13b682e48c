# frozen_string_literal: true

require "ffi"
require_relative "version"

module Tasker
  # The one module that touches libtasker: library discovery, the ABI check, every function's signature, and the
  # (pointer, length) in / tasker_bytes_t out / tasker_error_t* returned convention. Native memory is freed here,
  # in `ensure`, whatever happens. Calls that may wait (I/O with PostgreSQL) are attached with `blocking: true` so
  # other Ruby threads keep running.
  module Native
    extend FFI::Library

    ABI_VERSION = 2

    # tasker_bytes_t: an output buffer the library fills and tasker_bytes_free releases.
    class TaskerBytes < FFI::Struct
      layout :data, :pointer, :len, :size_t
    end

    # FFI::AutoPointer's releaser for engines and subscriptions that were never closed (the *_free destructors return
    # nothing and ignore stale handles). It frees only in the process that opened the handle: a forked child that
    # exits normally runs finalizers too, and must not call into a .NET runtime that did not survive the fork (nor
    # free its parent's engine).
    class Releaser
      def initialize(free_function)
        @free_function = free_function
        @pid = Process.pid
      end

      def call(pointer)
        Native.public_send(@free_function, pointer) if Process.pid == @pid
      end
    end

    # What a user installs to get the library: the platform gem carries it in lib/tasker/native.
    INSTALL_HINT = "install the gem built for this platform: gem install tasker-native --platform x86_64-linux " \
                   "(with Bundler: bundle lock --add-platform x86_64-linux); platform gems are built for Linux " \
                   "x86-64 with glibc. Or set TASKER_LIBRARY_PATH to a libtasker built for this machine"

    def self.library_path
      explicit = ENV["TASKER_LIBRARY_PATH"]
      return explicit if explicit && !explicit.empty?

      # The platform gem's copy (or the one the plain gem built at install time, or ./build.sh native in a checkout).
      bundled = %w[libtasker.so libtasker.dylib tasker.dll].map { |n| File.join(__dir__, "native", n) }
      bundled.find { |path| File.exist?(path) } ||
        raise(LoadError, "libtasker is not inside the tasker-native gem (#{File.join(__dir__, "native")}) on this " \
                         "#{RbConfig::CONFIG["host_os"]} #{RbConfig::CONFIG["host_cpu"]}: #{INSTALL_HINT}")
    end

    # The repository, when this binding runs from a checkout's bindings/ruby/lib (not from an installed gem).
    def self.checkout
      root = File.expand_path("../../../..", __dir__)
      root if File.file?(File.join(root, "include", "tasker.h"))
    end

    # What to do about a library of another release: the gem of this release, which carries its own. The build step
    # is named only where there is something to build (a checkout).
    def self.same_release_hint
      gem = "gem install tasker-native -v #{Tasker::VERSION}"
      hint = if ENV["TASKER_LIBRARY_PATH"].to_s.empty?
               "the library inside the gem is from another release: #{gem}"
             else
               "TASKER_LIBRARY_PATH names a libtasker of another release: unset it to use the library inside the " \
                 "gem (#{gem}), or point it at the libtasker of release #{Tasker::VERSION}"
             end
      checkout ? "#{hint} (in this checkout: ./build.sh native)" : hint
    end

    begin
      ffi_lib library_path
    rescue LoadError => e
      raise if e.message.start_with?("libtasker is not inside")

      where = if ENV["TASKER_LIBRARY_PATH"].to_s.empty?
                "the library inside the gem is not for this #{RbConfig::CONFIG["host_cpu"]} machine, or is damaged; " \
                  "#{INSTALL_HINT}"
              else
                "TASKER_LIBRARY_PATH names a library this process cannot load"
              end
      raise LoadError, "cannot load libtasker from #{library_path}: #{e.message}: #{where}"
    end

    # Functions the library lacks. A library of another ABI may lack some: ensure_abi! reports its ABI version first,
    # then these, when the first engine opens (not here, at require, where a stack trace would be all one got).
    MISSING = []

    def self.attach(name, *signature, **options)
      attach_function(name, *signature, **options)
    rescue FFI::NotFoundError
      MISSING << name
    end

    attach :tasker_version, [], :string
    attach :tasker_abi_version, [], :uint32
    attach :tasker_error_code, [:pointer], :int32
    attach :tasker_error_message, [:pointer], :string
    attach :tasker_error_details, [:pointer], :string
    attach :tasker_error_free, [:pointer], :void
    attach :tasker_bytes_free, [:pointer], :void
    attach :tasker_engine_open, %i[pointer size_t pointer], :pointer, blocking: true
    attach :tasker_engine_close, [:pointer], :pointer, blocking: true
    attach :tasker_engine_free, [:pointer], :void, blocking: true
    attach :tasker_engine_migrate, [:pointer], :pointer, blocking: true
    attach :tasker_engine_advance_clock, %i[pointer int64], :pointer
    attach :tasker_engine_health, %i[pointer pointer], :pointer, blocking: true
    attach :tasker_subscription_open, %i[pointer pointer size_t uint32 pointer], :pointer
    attach :tasker_subscription_pull, %i[pointer uint32 pointer], :pointer
    attach :tasker_subscription_free, [:pointer], :void
    JSON_CALLS = %i[
      tasker_template_register tasker_task_create tasker_task_get tasker_task_list tasker_steps_claim
      tasker_step_heartbeat tasker_step_complete tasker_step_fail tasker_steps_report tasker_task_evaluate
      tasker_task_retry tasker_task_cancel tasker_step_resolve tasker_stale_work_list tasker_work_claim
    ].freeze
    JSON_CALLS.each { |name| attach name, %i[pointer pointer size_t pointer], :pointer, blocking: true }
    MISSING.freeze

    module_function

    # Checked when the first engine opens, not at require: the .NET runtime inside libtasker starts with the first
    # call and does not survive fork, so a Puma or Sidekiq master may require tasker and fork workers, as long as
    # only the workers open engines.
    def ensure_abi!
      return if @abi_checked

      if MISSING.include?(:tasker_abi_version)
        raise Tasker::AbiMismatchError, "#{library_path} is not libtasker: it has no tasker_abi_version: #{same_release_hint}"
      end
      found = tasker_abi_version
      if found != ABI_VERSION
        raise Tasker::AbiMismatchError, "libtasker at #{library_path} has ABI version #{found}; this binding needs " \
                                        "#{ABI_VERSION}: #{same_release_hint}"
      end
      unless MISSING.empty?
        raise Tasker::AbiMismatchError, "libtasker at #{library_path} has no #{MISSING.join(", ")}: it is older than " \
                                        "this binding: #{same_release_hint}"
      end
      @abi_checked = true
    end

    # Raises the Tasker::Error subclass for a returned error, and frees it.
    def check!(error)
      return if error.null?

      begin
        code = tasker_error_code(error)
        message = tasker_error_message(error).dup.force_encoding(Encoding::UTF_8)
        details = tasker_error_details(error).dup.force_encoding(Encoding::UTF_8)
      ensure
        tasker_error_free(error)
      end
      raise Tasker::Error.for_code(code, message, details)
    end

    # Calls one of the (engine, data, len, out) functions with a String and returns the output String (UTF-8).
    def call_json(name, handle, payload)
      with_input(payload) do |pointer, length|
        with_output { |out| check!(public_send(name, handle, pointer, length, out)) }
      end
    end

    def with_input(string)
      size = string.bytesize
      pointer = FFI::MemoryPointer.new(:uint8, size.zero? ? 1 : size)
      pointer.put_bytes(0, string) # its bytes, whatever the String's encoding
      yield pointer, size
    ensure
      pointer&.free
    end

    def with_output
      out = TaskerBytes.new
      yield out
      out[:data].null? ? +"" : out[:data].read_bytes(out[:len]).force_encoding(Encoding::UTF_8)
    ensure
      tasker_bytes_free(out) if out
    end

    def open_engine(config)
      ensure_abi!
      with_input(config) do |pointer, length|
        slot = FFI::MemoryPointer.new(:pointer)
        check!(tasker_engine_open(pointer, length, slot))
        slot.read_pointer
      end
    end

    def open_subscription(engine, pattern, capacity)
      with_input(pattern) do |pointer, length|
        slot = FFI::MemoryPointer.new(:pointer)
        check!(tasker_subscription_open(engine, pointer, length, capacity, slot))
        slot.read_pointer
      end
    end

    def pull(subscription, max_events)
      with_output { |out| check!(tasker_subscription_pull(subscription, max_events, out)) }
    end

    def health(engine)
      with_output { |out| check!(tasker_engine_health(engine, out)) }
    end
  end
end
