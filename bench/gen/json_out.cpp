#include "json_out.hpp"

#include <stdexcept>

namespace cdphub::gen {

OutputFile::OutputFile(const std::filesystem::path& path)
    : path_(path), file_(std::fopen(path.c_str(), "wb"), &std::fclose) {
    if (!file_) throw std::runtime_error("cannot create " + path.string());
    buf_.reserve(kFlushAt + 64 * 1024);
}

OutputFile::~OutputFile() {
    if (file_) {
        try {
            flush();
        } catch (...) {  // close() reports errors; a destructor must not throw
        }
    }
}

void OutputFile::flush() {
    if (buf_.empty()) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_.get()) != buf_.size())
        throw std::runtime_error("cannot write " + path_.string());
    bytes_ += buf_.size();
    buf_.clear();
}

void OutputFile::close() {
    flush();
    std::FILE* f = file_.release();
    if (std::fclose(f) != 0) throw std::runtime_error("cannot write " + path_.string());
}

}  // namespace cdphub::gen
