// `duplex connect`: an interactive and scriptable WebSocket client, in the manner of wscat.
#pragma once

#include <CLI/CLI.hpp>

namespace duplex::app {

/// Adds the `connect` subcommand to `cli`; it runs when parsed and stores its exit status.
void add_connect_command(CLI::App& cli, int& exit_status);

}  // namespace duplex::app
