#include "duplex/core/sockjs/transport_framing.hpp"

#include "duplex/core/text/json_string.hpp"

namespace duplex::core::sockjs {

namespace {

// The htmlfile page around the callback (sockjs-protocol's HtmlFile test holds it).
constexpr std::string_view kHtmlfileHead =
    "<!doctype html>\n"
    "<html><head>\n"
    "  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n"
    "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
    "</head><body><h2>Don't panic!</h2>\n"
    "  <script>\n"
    "    document.domain = document.domain;\n"
    "    var c = parent.";
constexpr std::string_view kHtmlfileTail =
    ";\n"
    "    c.start();\n"
    "    function p(d) {c.message(d);};\n"
    "    window.onload = function() {c.stop();};\n"
    "  </script>";
// The reference pads its template, placeholder "{{ callback }}" (14 bytes) included, with
// spaces to 1,037 bytes, then replaces the placeholder: 1,023 bytes and the callback's length.
constexpr size_t kPlaceholderSize = 14;
constexpr size_t kPaddedSize = 1037;
constexpr size_t kPadding =
    kPaddedSize - (kHtmlfileHead.size() + kPlaceholderSize + kHtmlfileTail.size());

}  // namespace

void append_xhr_frame(std::string& out, std::string_view frame) {
  out += frame;
  out += '\n';
}

void append_xhr_streaming_prelude(std::string& out) {
  out.append(kXhrStreamingPreludeSize - 1, 'h');
  out += '\n';
}

void append_eventsource_frame(std::string& out, std::string_view frame) {
  out += "data: ";
  size_t plain = 0;
  for (size_t i = 0; i < frame.size(); ++i) {
    const char c = frame[i];
    const char* escape = c == '%'    ? "%25"
                         : c == '\r' ? "%0D"
                         : c == '\n' ? "%0A"
                         : c == '\0' ? "%00"
                                     : nullptr;
    if (!escape) continue;
    out.append(frame, plain, i - plain);
    out += escape;
    plain = i + 1;
  }
  out.append(frame, plain);
  out += "\r\n\r\n";
}

void append_htmlfile_prelude(std::string& out, std::string_view callback) {
  out += kHtmlfileHead;
  out += callback;
  out += kHtmlfileTail;
  out.append(kPadding, ' ');
  out += "\r\n\r\n";
}

void append_htmlfile_frame(std::string& out, std::string_view frame) {
  out += "<script>\np(";
  // Every '<' as \u003c: a message holding "</script>" (or "<!--") must not end the script
  // block it is written in, as it does on the reference (whose page then loses it).
  std::string quoted;
  append_json_string(quoted, frame);
  for (char c : quoted) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  out += ");\n</script>\r\n";
}

void append_jsonp_frame(std::string& out, std::string_view callback, std::string_view frame) {
  out += "/**/";
  out += callback;
  out += '(';
  append_json_string(out, frame);
  out += ");\r\n";
}

}  // namespace duplex::core::sockjs
