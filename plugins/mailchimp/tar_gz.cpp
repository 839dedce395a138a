#include "tar_gz.hpp"

#include <zlib.h>

#include <cstddef>
#include <stdexcept>

namespace cdphub::mailchimp {

namespace {

std::string gunzip(std::string_view in) {
    z_stream z{};
    // 15 + 32: a zlib or gzip stream, detected from its header.
    if (inflateInit2(&z, 15 + 32) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
    struct End {
        z_stream& z;
        ~End() { inflateEnd(&z); }
    } end{z};
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buf[64 * 1024];
    for (;;) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        const int rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK || (z.avail_in == 0 && z.avail_out != 0))
            throw std::runtime_error("the archive is not valid gzip data");
        if (out.size() > (std::size_t{512} << 20))
            throw std::runtime_error("the archive unpacks to more than 512 MiB");
    }
    return out;
}

std::size_t octal(std::string_view field) {
    std::size_t n = 0;
    for (char c : field) {
        if (c == '\0' || c == ' ') {
            if (n > 0) break;
            continue;
        }
        if (c < '0' || c > '7') throw std::runtime_error("bad octal number in a tar header");
        n = n * 8 + static_cast<std::size_t>(c - '0');
    }
    return n;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> untar_gz(std::string_view archive) {
    const std::string tar = gunzip(archive);
    std::vector<std::pair<std::string, std::string>> files;
    std::size_t pos = 0;
    while (pos + 512 <= tar.size()) {
        std::string_view h(tar.data() + pos, 512);
        if (h.find_first_not_of('\0') == std::string_view::npos) break;  // end-of-archive block
        std::string name(h.substr(0, 100).substr(0, h.substr(0, 100).find('\0')));
        const std::string_view prefix = h.substr(345, 155).substr(0, h.substr(345, 155).find('\0'));
        if (!prefix.empty()) name = std::string(prefix) + "/" + name;
        const std::size_t size = octal(h.substr(124, 12));
        const char type = h[156];
        pos += 512;
        if (pos + size > tar.size()) throw std::runtime_error("a tar entry runs past the archive");
        if (type == '0' || type == '\0') files.emplace_back(name, tar.substr(pos, size));
        pos += (size + 511) / 512 * 512;
    }
    return files;
}

}  // namespace cdphub::mailchimp
