// Plain HTTP files from a folder, so a page and its WebSocket share one origin. Paths are
// percent-decoded and confined to the folder; GET and HEAD only.
#pragma once

#include <string>
#include <string_view>

namespace duplex::core {
struct HttpRequest;
}

namespace duplex::detail {

class StaticFiles {
 public:
  /// Throws std::invalid_argument when `root` is not a readable folder.
  explicit StaticFiles(std::string root);
  /// Writes the response for `request` (200, 304-free, 400, 403, 404) into `out`; returns false
  /// when no file matches, so the caller may answer otherwise.
  bool serve(const core::HttpRequest& request, std::string& out) const;

 private:
  std::string root_;
};

/// The Content-Type for a file name's extension.
std::string_view content_type_for(std::string_view file_name);

}  // namespace duplex::detail
