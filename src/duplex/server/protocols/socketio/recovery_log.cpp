#include "duplex/server/protocols/socketio/recovery_log.hpp"

#include <algorithm>

namespace duplex::socketio::detail {

namespace {
bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

std::string RecoveryLog::next_offset() {
  std::lock_guard lock(mutex_);
  return std::to_string(next_++);
}

void RecoveryLog::log(Packet packet) {
  std::lock_guard lock(mutex_);
  packet.at = Clock::now();
  prune(packet.at);
  packets_.push_back(std::move(packet));
  while (packets_.size() > max_packets_) packets_.pop_front();
}

void RecoveryLog::save(Saved session) {
  std::lock_guard lock(mutex_);
  session.at = Clock::now();
  prune(session.at);
  std::string pid = session.pid;
  sessions_[pid] = std::move(session);
}

std::optional<RecoveryLog::RestoredCopy> RecoveryLog::restore(const std::string& pid,
                                                              const std::string& offset) {
  std::lock_guard lock(mutex_);
  prune(Clock::now());
  auto it = sessions_.find(pid);
  if (it == sessions_.end()) return std::nullopt;
  auto from = std::find_if(packets_.begin(), packets_.end(),
                           [&](const Packet& p) { return p.offset == offset; });
  if (from == packets_.end()) return std::nullopt;
  RestoredCopy restored{std::move(it->second), {}};
  sessions_.erase(it);
  const std::vector<std::string>& rooms = restored.session.rooms;
  for (auto p = std::next(from); p != packets_.end(); ++p) {
    const bool reached =
        p->rooms.empty() || std::any_of(p->rooms.begin(), p->rooms.end(),
                                        [&](const auto& r) { return contains(rooms, r); });
    const bool skipped = std::any_of(p->except.begin(), p->except.end(),
                                     [&](const auto& r) { return contains(rooms, r); });
    if (reached && !skipped) restored.missed.push_back(*p);
  }
  return restored;
}

void RecoveryLog::prune(Clock::time_point now) {
  const auto oldest = now - window_;
  while (!packets_.empty() && packets_.front().at < oldest) packets_.pop_front();
  std::erase_if(sessions_, [&](const auto& entry) { return entry.second.at < oldest; });
}

}  // namespace duplex::socketio::detail
