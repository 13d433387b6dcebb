// Internal: permessage-deflate state of the server. An endpoint keeps the codecs every connection
// without context takeover can share (one compressor per window size, one decompressor); a
// connection that negotiated the extension keeps its parameters and, only for a direction with
// context takeover, codecs of its own.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/permessage_deflate.hpp"

namespace duplex::detail {

/// Per endpoint: shared codecs (created on first use) and a scratch buffer for compressed bytes.
class EndpointDeflate {
 public:
  explicit EndpointDeflate(const core::DeflateOptions& options) : options_(options) {}

  const core::DeflateOptions& options() const { return options_; }
  /// A compressor without context takeover for `window_bits` (9-15).
  core::Deflater& shared_deflater(int window_bits);
  /// A decompressor without context takeover, given whole messages only.
  core::Inflater& shared_inflater();
  /// Where messages are compressed before they are framed (one loop thread uses it at a time).
  std::string& scratch() { return scratch_; }

 private:
  core::DeflateOptions options_;
  std::array<std::unique_ptr<core::Deflater>, 16> deflaters_;
  std::unique_ptr<core::Inflater> inflater_;
  std::string scratch_;
};

/// Per connection that negotiated permessage-deflate.
class DeflateSession {
 public:
  DeflateSession(const core::DeflateParams& params, EndpointDeflate& endpoint);

  const core::DeflateParams& params() const { return params_; }
  /// Whether a message of `size` bytes is sent compressed: at or above the threshold, and only
  /// with a window zlib can compress with (not 8 bits).
  bool wants(size_t size) const {
    return size >= endpoint_.options().threshold && params_.server_max_window_bits > 8;
  }
  /// Compresses `message` into the endpoint's scratch buffer; null when it is better sent plain
  /// (zlib failed, or a message without context takeover did not get smaller).
  const std::string* compress(std::string_view message);
  /// The decompressor for the receiver, and whether it is shared.
  core::Inflater* inflater() { return own_inflater_ ? own_inflater_.get() : &shared_inflater_; }
  bool inflater_shared() const { return !own_inflater_; }
  /// The endpoint's shared codecs on this connection's loop.
  EndpointDeflate& endpoint_deflate() { return endpoint_; }
  /// True when this connection takes the endpoint's shared compressed frames on broadcast.
  bool shares_frames() const { return params_.server_no_context_takeover; }

 private:
  core::DeflateParams params_;
  EndpointDeflate& endpoint_;
  std::unique_ptr<core::Deflater> own_deflater_;  // context takeover only, created on first use
  std::unique_ptr<core::Inflater> own_inflater_;  // context takeover only
  core::Inflater& shared_inflater_;
};

}  // namespace duplex::detail
