# frozen_string_literal: true

# Bundler.require requires a gem by its name: for "tasker-native" that is this file (were it missing, Bundler would
# fall back to "tasker/native", the FFI module alone, and no engine). It loads everything `require "tasker"` does.
require_relative "tasker"
