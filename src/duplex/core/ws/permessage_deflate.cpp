#include "duplex/core/ws/permessage_deflate.hpp"

#include <algorithm>
#include <stdexcept>

namespace duplex::core {

namespace {

constexpr std::string_view kServerNoTakeover = "server_no_context_takeover";
constexpr std::string_view kClientNoTakeover = "client_no_context_takeover";
constexpr std::string_view kServerBits = "server_max_window_bits";
constexpr std::string_view kClientBits = "client_max_window_bits";

// The parameters of one offer or answer, checked for the rules both share (RFC 7692 section 7):
// known names, each at most once, no value on the *_no_context_takeover flags, window bits a
// decimal 8-15 without leading zeros.
struct Params {
  bool server_no_takeover = false;
  bool client_no_takeover = false;
  std::optional<int> server_bits;
  bool client_bits_present = false;
  std::optional<int> client_bits;  // client_max_window_bits may come without a value
};

std::optional<int> window_bits(const std::optional<std::string>& value) {
  if (!value || value->empty() || value->size() > 2 || (*value)[0] == '0') return std::nullopt;
  if (!std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int bits = std::stoi(*value);
  if (bits < 8 || bits > 15) return std::nullopt;
  return bits;
}

std::variant<Params, std::string> parse_params(const Extension& e) {
  Params p;
  std::vector<std::string_view> seen;
  for (const ExtensionParam& param : e.params) {
    const std::string_view name = param.name;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return "repeated parameter " + param.name;
    }
    seen.push_back(name);
    if (name == kServerNoTakeover || name == kClientNoTakeover) {
      if (param.value) return param.name + " with a value";
      (name == kServerNoTakeover ? p.server_no_takeover : p.client_no_takeover) = true;
    } else if (name == kServerBits) {
      p.server_bits = window_bits(param.value);
      if (!p.server_bits) return "invalid server_max_window_bits";
    } else if (name == kClientBits) {
      p.client_bits_present = true;
      if (param.value) {
        p.client_bits = window_bits(param.value);
        if (!p.client_bits) return "invalid client_max_window_bits";
      }
    } else {
      return "unknown parameter " + param.name;
    }
  }
  return p;
}

void append_param(std::string& out, std::string_view name, std::optional<int> value = {}) {
  out.append("; ").append(name);
  if (value) out.append("=").append(std::to_string(*value));
}

}  // namespace

void validate_deflate_options(const DeflateOptions& o) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("permessage-deflate: ") + what);
  };
  require(o.server_max_window_bits >= 8 && o.server_max_window_bits <= 15,
          "server_max_window_bits must be 8-15");
  require(o.client_max_window_bits >= 8 && o.client_max_window_bits <= 15,
          "client_max_window_bits must be 8-15");
  require(o.level >= 0 && o.level <= 9, "level must be 0-9");
  require(o.mem_level >= 1 && o.mem_level <= 9, "mem_level must be 1-9");
}

std::optional<DeflateAgreement> accept_deflate(const std::vector<Extension>& offers,
                                               const DeflateOptions& options) {
  if (!options.enabled) return std::nullopt;
  const bool shared = options.mode == DeflateMode::shared;
  for (const Extension& offer : offers) {
    if (offer.name != kPerMessageDeflate) continue;
    auto parsed = parse_params(offer);
    if (!std::holds_alternative<Params>(parsed)) continue;  // declined; try the next offer
    const Params& p = std::get<Params>(parsed);

    DeflateAgreement a;
    DeflateParams& agreed = a.params;
    // The client's window can only be bounded when it says it understands the parameter.
    if (!p.client_bits_present && options.client_max_window_bits < 15) continue;
    agreed.server_no_context_takeover =
        p.server_no_takeover || options.server_no_context_takeover || shared;
    // The offer's client_no_context_takeover is only a hint: the client keeps its context unless
    // the answer says otherwise, so it is answered when we want it, not because it was offered.
    agreed.client_no_context_takeover = options.client_no_context_takeover || shared;
    agreed.server_max_window_bits =
        static_cast<uint8_t>(std::min(p.server_bits.value_or(15), options.server_max_window_bits));
    agreed.client_max_window_bits =
        static_cast<uint8_t>(std::min(p.client_bits.value_or(15), options.client_max_window_bits));

    a.response = kPerMessageDeflate;
    if (agreed.server_no_context_takeover) append_param(a.response, kServerNoTakeover);
    if (agreed.client_no_context_takeover) append_param(a.response, kClientNoTakeover);
    // server_max_window_bits may only be answered to an offer that has it (RFC 7692 7.1.2.1).
    if (p.server_bits) append_param(a.response, kServerBits, agreed.server_max_window_bits);
    if (p.client_bits_present && (p.client_bits || agreed.client_max_window_bits < 15)) {
      append_param(a.response, kClientBits, agreed.client_max_window_bits);
    }
    return a;
  }
  return std::nullopt;
}

std::string deflate_offer(const DeflateOptions& options) {
  std::string offer(kPerMessageDeflate);
  if (options.server_no_context_takeover) append_param(offer, kServerNoTakeover);
  if (options.client_no_context_takeover) append_param(offer, kClientNoTakeover);
  if (options.server_max_window_bits < 15) {
    append_param(offer, kServerBits, options.server_max_window_bits);
  }
  // Always offered, so that the server may bound our window (RFC 7692 7.1.2.2).
  append_param(offer, kClientBits,
               options.client_max_window_bits < 15
                   ? std::optional<int>(options.client_max_window_bits)
                   : std::nullopt);
  return offer;
}

std::variant<DeflateParams, std::string> check_deflate_answer(const Extension& answer,
                                                              const DeflateOptions& options) {
  auto parsed = parse_params(answer);
  if (auto* why = std::get_if<std::string>(&parsed)) return "permessage-deflate: " + *why;
  const Params& p = std::get<Params>(parsed);
  if (options.server_no_context_takeover && !p.server_no_takeover) {
    return std::string(
        "permessage-deflate: server_no_context_takeover was asked for but not "
        "agreed");
  }
  if (options.server_max_window_bits < 15) {
    if (!p.server_bits) {
      return std::string("permessage-deflate: server_max_window_bits was asked for but not agreed");
    }
    if (*p.server_bits > options.server_max_window_bits) {
      return "permessage-deflate: server_max_window_bits=" + std::to_string(*p.server_bits) +
             " is larger than offered";
    }
  }
  if (p.client_bits_present) {
    if (!p.client_bits) {
      return std::string("permessage-deflate: client_max_window_bits without a value");
    }
    if (*p.client_bits > options.client_max_window_bits) {
      return "permessage-deflate: client_max_window_bits=" + std::to_string(*p.client_bits) +
             " is larger than offered";
    }
  }
  DeflateParams agreed;
  agreed.server_no_context_takeover = p.server_no_takeover;
  agreed.client_no_context_takeover = p.client_no_takeover || options.client_no_context_takeover;
  agreed.server_max_window_bits = static_cast<uint8_t>(p.server_bits.value_or(15));
  agreed.client_max_window_bits =
      static_cast<uint8_t>(p.client_bits.value_or(options.client_max_window_bits));
  return agreed;
}

}  // namespace duplex::core
