# frozen_string_literal: true

# What Bundler.require loads for `gem "tasker-native"` (it requires the gem's name first): the whole binding, so a
# Rails app needs no `require:` option.
require_relative "tasker"
