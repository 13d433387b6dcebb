// What the load generator reads about a process from /proc: the CPU time it has used (all its
// threads, user + system) and its resident memory. Linux only, as the rest of the IO layer.
#pragma once

#include <sys/types.h>

#include <optional>

namespace duplex::app {

/// CPU seconds used by `pid` so far (/proc/PID/stat utime + stime), or nothing if it is gone.
std::optional<double> process_cpu_seconds(pid_t pid);

/// Resident set size of `pid` in bytes (/proc/PID/status VmRSS), or nothing if it is gone.
std::optional<long long> process_rss_bytes(pid_t pid);

/// CPU seconds used by this process (getrusage, user + system).
double own_cpu_seconds();

/// Raises this process's open-file limit as far as it may go (many connections, many sockets):
/// to the kernel's ceiling for root, else to the hard limit.
void raise_descriptor_limit();

}  // namespace duplex::app
