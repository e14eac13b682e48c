# frozen_string_literal: true

module Tasker
  # The release version, kept in one file for the whole project: VERSION at the top of the repository. A built gem
  # carries a copy next to this file (./build.sh dist puts it there); a checkout reads the repository's own.
  VERSION = [File.join(__dir__, "VERSION"), File.expand_path("../../../../VERSION", __dir__)]
            .find { |path| File.file?(path) }
            .then { |path| path ? File.read(path).strip : raise(LoadError, "tasker: VERSION not found next to #{__FILE__}") }
end
