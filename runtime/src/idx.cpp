#include <constnet/error.hpp>
#include <constnet/idx.hpp>

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

namespace constnet::idx {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t images_magic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t labels_magic = 0x00000801;  // unsigned bytes, 1 dimension
// Sanity bounds checked before allocating anything from an untrusted header.
constexpr std::uint32_t max_side = 4096;
constexpr std::uint32_t max_count = 100'000'000;

template <typename... Args>
[[noreturn]] void fail(const fs::path& path, fmt::format_string<Args...> what, Args&&... args) {
    throw error(fmt::format("IDX file '{}': {}", path.string(), fmt::format(what, std::forward<Args>(args)...)));
}

// gzopen/gzread read plain files transparently, so one reader serves both.
// zlib reports a gzip stream cut short not as a read error but as a short read
// with Z_BUF_ERROR pending (or from gzclose_r), so every short read and the
// close are checked explicitly.
class gz_reader {
public:
    explicit gz_reader(const fs::path& path) : path_(path) {
        std::error_code ec;
        const auto status = fs::status(path, ec);
        if (status.type() == fs::file_type::not_found) fail(path, "file does not exist");
        if (ec) fail(path, "cannot be opened: {}", ec.message());  // e.g. a directory without search permission
        if (!fs::is_regular_file(status)) fail(path, "is not a regular file");
        errno = 0;
        file_ = gzopen(path.c_str(), "rb");
        if (!file_)
            fail(path, "cannot be opened: {}",
                 errno != 0 ? std::error_code(errno, std::generic_category()).message() : "out of memory");
    }
    ~gz_reader() {
        if (file_) gzclose_r(file_);
    }
    gz_reader(const gz_reader&) = delete;
    gz_reader& operator=(const gz_reader&) = delete;

    // Reads up to n bytes; fewer only at the end of the data or on a truncated stream.
    std::size_t read(void* dst, std::size_t n) {
        std::size_t got = 0;
        while (got < n) {
            const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, std::size_t{1} << 30));
            const int r = gzread(file_, static_cast<char*>(dst) + got, chunk);
            if (r < 0) fail_stream();
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
        }
        return got;
    }

    // Explains a short read of `what`: a cut gzip stream or a file that is simply too short.
    [[noreturn]] void short_read(std::string_view what, std::uint64_t expected, std::uint64_t found) {
        int err = Z_OK;
        const auto msg = zlib_error(err);
        if (err == Z_BUF_ERROR)
            fail(path_, "gzip stream is truncated ({}) after {} of {} expected bytes of {}", msg, found, expected,
                 what);
        if (err != Z_OK) fail_stream();
        fail(path_, "is too short: expected {} bytes of {}, found {}", expected, what, found);
    }

    // Closes the file and returns how many bytes followed the expected data;
    // also catches a stream whose data was complete but whose trailer was cut.
    std::uint64_t finish() {
        std::uint64_t extra = 0;
        char buf[1 << 16];
        for (int r; (r = gzread(file_, buf, sizeof buf)) != 0; extra += static_cast<std::uint64_t>(r))
            if (r < 0) fail_stream();
        int err = Z_OK;
        const auto msg = zlib_error(err);
        if (err == Z_BUF_ERROR) fail(path_, "gzip stream is truncated ({})", msg);
        if (err != Z_OK) fail_stream();
        const int rc = gzclose_r(file_);
        file_ = nullptr;
        if (rc == Z_BUF_ERROR) fail(path_, "gzip stream is truncated (it ends in the middle of a gzip member)");
        if (rc != Z_OK) fail(path_, "closing failed with zlib error {}", rc);
        return extra;
    }

private:
    // gzerror's text starts with the path given to gzopen; ours already names the file.
    std::string zlib_error(int& err) const {
        std::string_view msg = gzerror(file_, &err);
        if (const auto prefix = path_.string() + ": "; msg.substr(0, prefix.size()) == prefix)
            msg.remove_prefix(prefix.size());
        return std::string(msg);
    }

    [[noreturn]] void fail_stream() {
        int err = Z_OK;
        const auto msg = zlib_error(err);
        if (err == Z_ERRNO)
            fail(path_, "read failed: {}", std::error_code(errno, std::generic_category()).message());
        fail(path_, "gzip stream is corrupt ({})", msg);
    }

    fs::path path_;
    gzFile file_ = nullptr;
};

std::uint32_t big_endian_u32(const unsigned char* b) {
    return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | std::uint32_t(b[3]);
}

// Reads the magic and the dimension sizes, checking the magic against `expected`.
std::vector<std::uint32_t> read_header(gz_reader& in, const fs::path& path, std::uint32_t expected,
                                       std::string_view kind) {
    unsigned char magic_bytes[4];
    if (const auto got = in.read(magic_bytes, 4); got != 4) in.short_read("header", 4, got);
    const std::uint32_t magic = big_endian_u32(magic_bytes);
    const std::uint32_t dims = expected & 0xFF;
    if ((magic & ~0xFFu) != (expected & ~0xFFu))
        fail(path, "has magic 0x{:08X}, expected 0x{:08X} ({})", magic, expected, kind);
    if ((magic & 0xFF) != dims)
        fail(path, "has {} dimensions (magic 0x{:08X}), expected {} (magic 0x{:08X}, {})", magic & 0xFF, magic, dims,
             expected, kind);

    std::vector<unsigned char> bytes(4 * dims);
    if (const auto got = in.read(bytes.data(), bytes.size()); got != bytes.size())
        in.short_read("header", 4 + bytes.size(), 4 + got);
    std::vector<std::uint32_t> sizes(dims);
    for (std::uint32_t i = 0; i < dims; ++i) sizes[i] = big_endian_u32(&bytes[4 * i]);
    return sizes;
}

// Reads exactly n bytes and requires the file to end there. The buffer grows
// with the data actually read, so a lying header cannot make us allocate more
// than the file holds.
std::vector<std::uint8_t> read_payload(gz_reader& in, const fs::path& path, std::uint64_t n, std::string_view what) {
    std::vector<std::uint8_t> v;
    constexpr std::uint64_t min_step = std::uint64_t{1} << 24;
    while (v.size() < n) {
        const std::uint64_t old = v.size();
        const std::uint64_t want = std::min(n - old, std::max(min_step, old));
        v.resize(old + want);
        if (const auto got = in.read(v.data() + old, want); got != want) in.short_read(what, n, old + got);
    }
    if (const auto extra = in.finish(); extra != 0)
        fail(path, "has {} bytes of trailing data after the expected {} bytes of {}", extra, n, what);
    return v;
}

}  // namespace

images read_images(const fs::path& path) {
    gz_reader in(path);
    const auto sizes = read_header(in, path, images_magic, "an images file");
    const std::uint32_t count = sizes[0], rows = sizes[1], cols = sizes[2];
    if (count == 0 || count > max_count) fail(path, "has {} images, expected 1 to {}", count, max_count);
    if (rows == 0 || rows > max_side || cols == 0 || cols > max_side)
        fail(path, "has images of {}x{} pixels, expected sides of 1 to {}", rows, cols, max_side);
    images out;
    out.count = static_cast<std::int32_t>(count);
    out.rows = static_cast<std::int32_t>(rows);
    out.cols = static_cast<std::int32_t>(cols);
    out.pixels = read_payload(in, path, std::uint64_t{count} * rows * cols, "pixels");
    return out;
}

std::vector<std::uint8_t> read_labels(const fs::path& path) {
    gz_reader in(path);
    const auto sizes = read_header(in, path, labels_magic, "a labels file");
    const std::uint32_t count = sizes[0];
    if (count == 0 || count > max_count) fail(path, "has {} labels, expected 1 to {}", count, max_count);
    return read_payload(in, path, count, "labels");
}

}  // namespace constnet::idx

namespace constnet::data {

const std::array<std::string_view, 10>& fashion_mnist_text_labels() {
    static constexpr std::array<std::string_view, 10> labels = {
        "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"};
    return labels;
}

labelled_images load_fashion_mnist(const std::filesystem::path& dir, std::string_view split) {
    if (split != "train" && split != "t10k")
        throw error(fmt::format("unknown Fashion-MNIST split '{}' in '{}', expected 'train' or 't10k'", split,
                                dir.string()));
    const auto images_path = dir / fmt::format("{}-images-idx3-ubyte.gz", split);
    const auto labels_path = dir / fmt::format("{}-labels-idx1-ubyte.gz", split);
    labelled_images out{idx::read_images(images_path), idx::read_labels(labels_path)};
    if (out.labels.size() != static_cast<std::size_t>(out.images.count))
        throw error(fmt::format("Fashion-MNIST files '{}' and '{}' disagree: {} images but {} labels",
                                images_path.string(), labels_path.string(), out.images.count, out.labels.size()));
    const std::size_t classes = fashion_mnist_text_labels().size();
    for (std::size_t i = 0; i < out.labels.size(); ++i)
        if (out.labels[i] >= classes)
            throw error(fmt::format("IDX file '{}': label {} at index {} is not a Fashion-MNIST class, "
                                    "expected 0 to {}",
                                    labels_path.string(), out.labels[i], i, classes - 1));
    return out;
}

}  // namespace constnet::data
