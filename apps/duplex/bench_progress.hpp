// What the engines of `duplex bench` tell the command while they run: the phase, its progress,
// and the moments at which the command samples the server's CPU time and memory.
#pragma once

#include <cstdint>
#include <functional>

namespace duplex::app {

struct Progress {
  enum class Phase {
    connecting,
    baseline,
    subscribing,
    warming_up,
    measuring,
    holding,
    done
  } phase;
  double elapsed = 0;        // in this phase
  double phase_seconds = 0;  // its length (0 for connecting and subscribing)
  int open = 0;              // open connections
  uint64_t messages = 0;     // echoes (or, publish/subscribe, deliveries) in this phase so far
};

enum class ProgressMoment { started, tick, ended };

/// Called when a phase starts, about every second in it, and when it ends (before anything else
/// happens): the command prints a progress line and samples the server's CPU time there.
using ProgressCallback = std::function<void(const Progress&, ProgressMoment)>;

}  // namespace duplex::app
