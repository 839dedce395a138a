// Reading the tar.gz archives Mailchimp's batch endpoint leaves at response_body_url: gunzip with
// zlib, then the ustar entries (512-byte headers, octal sizes, content padded to 512 bytes).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdphub::mailchimp {

// The regular files of a gzip-compressed tar archive as (name, content), in archive order.
// Throws std::runtime_error if the archive is damaged or not gzip/tar at all.
std::vector<std::pair<std::string, std::string>> untar_gz(std::string_view archive);

}  // namespace cdphub::mailchimp
