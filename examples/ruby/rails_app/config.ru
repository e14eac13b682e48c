# frozen_string_literal: true

# rackup examples/ruby/rails_app/config.ru -p 3000   (see app.rb)
require_relative "app"
run Rails.application
