#include "duplex/server/deflate_session.hpp"

#include "duplex/core/ws/sender.hpp"

namespace duplex::detail {

namespace {
// Scratch buffers that grew past this are freed after use.
constexpr size_t kKeepScratchBytes = 64 * 1024;
}  // namespace

core::Deflater& EndpointDeflate::shared_deflater(int window_bits) {
  auto& slot = deflaters_[static_cast<size_t>(window_bits)];
  if (!slot) {
    slot = std::make_unique<core::Deflater>(window_bits, true, options_.level, options_.mem_level);
  }
  return *slot;
}

core::Inflater& EndpointDeflate::shared_inflater() {
  if (!inflater_) inflater_ = std::make_unique<core::Inflater>(15, true);
  return *inflater_;
}

DeflateSession::DeflateSession(const core::DeflateParams& params, EndpointDeflate& endpoint)
    : params_(params), endpoint_(endpoint), shared_inflater_(endpoint.shared_inflater()) {
  if (!params.client_no_context_takeover) {
    own_inflater_ = std::make_unique<core::Inflater>(params.client_max_window_bits, false);
  }
}

const std::string* DeflateSession::compress(std::string_view message) {
  core::Deflater* deflater;
  if (params_.server_no_context_takeover) {
    deflater = &endpoint_.shared_deflater(params_.server_max_window_bits);
  } else {
    if (!own_deflater_) {
      const core::DeflateOptions& o = endpoint_.options();
      own_deflater_ = std::make_unique<core::Deflater>(params_.server_max_window_bits, false,
                                                       o.level, o.mem_level);
    }
    deflater = own_deflater_.get();
  }
  std::string& out = endpoint_.scratch();
  out.clear();
  if (out.capacity() > kKeepScratchBytes) std::string().swap(out);
  if (!deflater->compress(message, out)) return nullptr;
  // Without takeover nothing depends on this message having gone through the compressor, so
  // one that did not shrink goes out plain.
  if (deflater->no_context_takeover() && out.size() >= message.size()) return nullptr;
  return &out;
}

}  // namespace duplex::detail
