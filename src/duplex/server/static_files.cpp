#include "duplex/server/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/http/http_response.hpp"
#include "duplex/core/ws/handshake.hpp"

namespace duplex::detail {

namespace {
// Whole files are read into the response; larger ones are refused rather than held in memory.
constexpr off_t kMaxFileBytes = 64 * 1024 * 1024;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a path; false on a malformed escape or an encoded NUL.
bool decode_path(std::string_view in, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// No "..", "." or empty segments, no backslashes: the path cannot leave the root.
bool is_confined(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.find('\\') != std::string_view::npos) return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == ".." || segment == "." || (segment.empty() && end != path.size())) return false;
    start = end + 1;
  }
  return true;
}
}  // namespace

std::string_view content_type_for(std::string_view name) {
  const size_t dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "ico") return "image/x-icon";
  if (ext == "wasm") return "application/wasm";
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  struct stat st {};
  if (stat(root_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::invalid_argument("static folder '" + root_ + "' is not a readable folder");
  }
}

bool StaticFiles::serve(const core::HttpRequest& request, std::string& out) const {
  const bool head = request.method == "HEAD";
  std::string path;
  if (!decode_path(request.path, path)) {
    core::write_error_response(out, 400, "malformed percent-encoding in path", head);
    return true;
  }
  if (!is_confined(path)) return false;
  if (path.back() == '/') path += "index.html";

  std::string file = root_ + path;
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) return false;
  if (S_ISDIR(st.st_mode)) {
    file += "/index.html";
    if (stat(file.c_str(), &st) != 0) return false;
  }
  if (!S_ISREG(st.st_mode)) return false;
  if (st.st_size > kMaxFileBytes) {
    core::write_error_response(out, 500, "file too large to serve", head);
    return true;
  }
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    core::write_error_response(out, 403, "file not readable", head);
    return true;
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = read(fd, content.data() + got, content.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  content.resize(got);
  core::HttpResponse(200)
      .header("Cache-Control", "no-cache")
      .body(content, content_type_for(file))
      .serialize(out, head);
  return true;
}

}  // namespace duplex::detail
