// Writing Socket.IO v5 packets byte for byte as the reference encoder (socket.io-parser 4.2)
// writes them: the header, then the data as JSON.stringify writes it (no spaces, members in
// order). Every function appends to `out`.
//
// Preconditions throughout: a namespace is "/" (or empty, the same) or starts with '/' and
// holds no ','; "raw JSON" arguments are each one compact JSON text (as JSON.stringify or
// write_json writes it, or a view the decoder gave) and are copied as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/packet.hpp"

namespace duplex::core::socketio {

/// `<type>[<attachments>-][<nsp>,][<id>]`: the attachment count only for the binary types, the
/// namespace only when it is not "/". The data, if any, is appended after it.
void encode_header(std::string& out, PacketType type, std::string_view nsp,
                   std::optional<uint64_t> id = std::nullopt, size_t attachments = 0);

/// `2[<nsp>,][<id>]["<name>",<arg>,...]`: an event; the name written as a JSON string.
void encode_event(std::string& out, std::string_view nsp, std::string_view name,
                  std::span<const std::string_view> args,
                  std::optional<uint64_t> id = std::nullopt);

/// `3[<nsp>,]<id>[<arg>,...]`: the ack of the event that carried `id`.
void encode_ack(std::string& out, std::string_view nsp, uint64_t id,
                std::span<const std::string_view> args);

/// The server's answer to a connect: `0[<nsp>,]{"sid":"<sid>"}`, or with connection state
/// recovery `0[<nsp>,]{"sid":"<sid>","pid":"<pid>"}`.
void encode_connect(std::string& out, std::string_view nsp, std::string_view sid,
                    std::optional<std::string_view> pid = std::nullopt);

/// A client's connect, as socket.io-client writes it: `0[<nsp>,]` then the auth object (raw
/// JSON, or nothing when empty). With a `pid` (a session to recover) the data is the object
/// {"pid":"<pid>","offset":"<offset>", <auth's members>} (offset left out when absent, and an
/// empty auth counting as {}). Object.assign would let an auth member named pid or offset
/// replace the value in place; here such a member follows, and JSON.parse keeps its value too.
void encode_connect_request(std::string& out, std::string_view nsp, std::string_view auth = {},
                            std::optional<std::string_view> pid = std::nullopt,
                            std::optional<std::string_view> offset = std::nullopt);

/// `4[<nsp>,]{"message":"<message>"}`, or with `data` (raw JSON, when not empty)
/// `4[<nsp>,]{"message":"<message>","data":<data>}`.
void encode_connect_error(std::string& out, std::string_view nsp, std::string_view message,
                          std::string_view data = {});

/// `1[<nsp>,]`.
void encode_disconnect(std::string& out, std::string_view nsp);

/// An event whose arguments are values (`args`, an array). As the reference encoder chooses:
/// with no binary value among them, `2...["<name>",<arg>,...]`; otherwise a binary_event
/// `5<count>-...["<name>",...]` whose binary values are placeholders numbered in the order they
/// are written (json_writer.hpp). `buffers` is cleared, then gets their bytes in that order
/// (views of `args`): each goes out as one binary message after the text.
void encode_event(std::string& out, std::vector<std::string_view>& buffers, std::string_view nsp,
                  std::string_view name, const json::Json& args,
                  std::optional<uint64_t> id = std::nullopt);

/// The same for an ack: `3...<id>[<arg>,...]`, or a binary_ack `6<count>-...<id>[...]`.
void encode_ack(std::string& out, std::vector<std::string_view>& buffers, std::string_view nsp,
                uint64_t id, const json::Json& args);

}  // namespace duplex::core::socketio
