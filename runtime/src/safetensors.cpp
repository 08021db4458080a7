#include <constnet/error.hpp>
#include <constnet/safetensors.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

namespace constnet::safetensors {
namespace {

namespace fs = std::filesystem;

// Tensor bytes go straight between disk and float storage, which is only right
// where the host's floats are the format's (little-endian IEEE-754 binary32).
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4);

constexpr std::uint64_t prefix_bytes = 8;  // the u64 header length
constexpr std::uint64_t f32_bytes = 4;
constexpr std::string_view metadata_key = "__metadata__";

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

template <typename... Args>
[[noreturn]] void fail_read(const fs::path& path, fmt::format_string<Args...> what, Args&&... args) {
    throw error(fmt::format("safetensors file '{}': {}", path.string(),
                            fmt::format(what, std::forward<Args>(args)...)));
}

template <typename... Args>
[[noreturn]] void fail_write(const fs::path& path, fmt::format_string<Args...> what, Args&&... args) {
    throw error(fmt::format("cannot write safetensors file '{}': {}", path.string(),
                            fmt::format(what, std::forward<Args>(args)...)));
}

// A JSON value as it appears in the file, shortened: messages quote what was found.
std::string show(const nlohmann::json& j) {
    auto s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    constexpr std::size_t max_len = 60;
    if (s.size() > max_len) s = s.substr(0, max_len) + "...";
    return s;
}

std::string a_type(const nlohmann::json& j) {
    const std::string_view t = j.type_name();
    return fmt::format("{} {}", (t == "array" || t == "object") ? "an" : "a", t);
}

// Element count of a shape, or nothing on a negative dimension or overflow.
std::optional<std::uint64_t> element_count(const std::vector<std::int64_t>& shape) {
    std::uint64_t n = 1;
    bool overflow = false;
    for (const auto d : shape) {
        if (d < 0) return std::nullopt;
        const auto u = static_cast<std::uint64_t>(d);
        if (u != 0 && n > std::numeric_limits<std::uint64_t>::max() / u) overflow = true;
        else n *= u;
    }
    // A zero dimension empties the tensor however large the others are.
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
    if (overflow) return std::nullopt;
    return n;
}

struct entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;
};

entry parse_entry(const fs::path& path, const std::string& name, const nlohmann::json& v,
                  std::uint64_t data_size) {
    if (!v.is_object())
        fail_read(path, "entry '{}' is {} ({}), expected an object with dtype, shape and data_offsets",
                  name, a_type(v), show(v));
    for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!v.contains(field)) fail_read(path, "tensor '{}' has no \"{}\" field", name, field);

    const auto& dtype = v["dtype"];
    if (!dtype.is_string())
        fail_read(path, "tensor '{}' has dtype {}, expected the string \"F32\"", name, show(dtype));
    if (dtype.get_ref<const std::string&>() != "F32")
        fail_read(path, "tensor '{}' has dtype {}, expected F32", name, dtype.get_ref<const std::string&>());

    entry e{name, {}, 0, 0};
    const auto& shape = v["shape"];
    if (!shape.is_array())
        fail_read(path, "tensor '{}' has shape {}, expected an array of non-negative integers", name, show(shape));
    for (const auto& d : shape) {
        const bool ok = d.is_number_unsigned() &&
                        d.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<std::int64_t>::max());
        if (!ok)
            fail_read(path, "tensor '{}' has shape {} with dimension {}, expected non-negative integers",
                      name, show(shape), show(d));
        e.shape.push_back(d.get<std::int64_t>());
    }
    const auto count = element_count(e.shape);
    if (!count || *count > std::numeric_limits<std::uint64_t>::max() / f32_bytes)
        fail_read(path, "tensor '{}' has shape {} whose size overflows 64 bits", name, show(shape));

    const auto& offsets = v["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
        fail_read(path, "tensor '{}' has data_offsets {}, expected two non-negative integers [begin, end]",
                  name, show(offsets));
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    if (e.begin > e.end)
        fail_read(path, "tensor '{}' has data_offsets [{}, {}], expected begin <= end", name, e.begin, e.end);
    if (e.end > data_size)
        fail_read(path, "tensor '{}' has data_offsets [{}, {}] ending beyond the data region of {} bytes",
                  name, e.begin, e.end, data_size);
    if (e.end - e.begin != *count * f32_bytes)
        fail_read(path, "tensor '{}' has shape [{}] ({} F32 values, {} bytes) but data_offsets [{}, {}] span {} bytes",
                  name, fmt::join(e.shape, ", "), *count, *count * f32_bytes, e.begin, e.end, e.end - e.begin);
    return e;
}

// The JSON reason of a parse error, without nlohmann's prefix and without
// the "last read" excerpt (raw file bytes, possibly not UTF-8).
std::string parse_reason(const nlohmann::json::exception& e) {
    std::string_view what = e.what();  // "[json.exception.<kind>.<id>] [parse error at line 1, column 4: ]reason"
    if (const auto id = what.find("] "); id != std::string_view::npos) what.remove_prefix(id + 2);
    if (what.starts_with("parse error"))
        if (const auto colon = what.find(": "); colon != std::string_view::npos) what.remove_prefix(colon + 2);
    if (const auto last = what.find("; last read"); last != std::string_view::npos) {
        std::string_view tail = what.substr(last);
        const auto expected = tail.find("; expected");
        what = what.substr(0, last);
        if (expected != std::string_view::npos) return fmt::format("{}{}", what, tail.substr(expected));
    }
    return std::string(what);
}

// Parses the header, refusing duplicate keys at any level: JSON parsers differ
// in which duplicate they keep, so a file with two "0.weight" entries (or two
// "shape" fields) has no single meaning.
nlohmann::json parse_header(const fs::path& path, const std::string& text) {
    std::vector<std::set<std::string>> keys;  // the keys seen in each open object
    std::optional<std::string> duplicate;
    const auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using ev = nlohmann::json::parse_event_t;
        if (event == ev::object_start) keys.emplace_back();
        else if (event == ev::object_end) keys.pop_back();
        else if (event == ev::key && !duplicate) {
            if (auto key = parsed.get<std::string>(); !keys.back().insert(key).second) duplicate = std::move(key);
        }
        return true;
    };
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text, check);
    } catch (const nlohmann::json::parse_error& e) {
        fail_read(path, "header is not valid JSON: {} (at byte {} of {})", parse_reason(e), e.byte, text.size());
    } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range for a number beyond double (found by fuzzing)
        fail_read(path, "header is not valid JSON: {}", parse_reason(e));
    }
    if (duplicate)
        fail_read(path, "header has the key \"{}\" twice in one object, expected unique names", *duplicate);
    return header;
}

}  // namespace

file read(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) fail_read(path, "file does not exist");
    if (ec) fail_read(path, "cannot be opened: {}", ec.message());  // e.g. a directory without search permission
    if (!fs::is_regular_file(status)) fail_read(path, "is not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_read(path, "cannot be opened: {}", errno_text(errno));
    const std::uint64_t file_size = fs::file_size(path, ec);
    if (ec) fail_read(path, "cannot be opened: {}", ec.message());
    if (file_size < prefix_bytes)
        fail_read(path, "is {} bytes long, shorter than the {}-byte header length", file_size, prefix_bytes);

    const auto read_exact = [&](char* dst, std::uint64_t n, std::string_view what) {
        in.read(dst, static_cast<std::streamsize>(n));
        if (static_cast<std::uint64_t>(in.gcount()) != n)
            fail_read(path, "could not read {} ({} of {} bytes; was the file changed while reading?)",
                      what, in.gcount(), n);
    };

    char prefix[prefix_bytes];
    read_exact(prefix, prefix_bytes, "the header length");
    std::uint64_t header_len = 0;
    std::memcpy(&header_len, prefix, sizeof header_len);
    // Checked against the real size before allocating: the length is untrusted.
    if (header_len > file_size - prefix_bytes)
        fail_read(path, "declares a {}-byte header, but only {} bytes follow the header length",
                  header_len, file_size - prefix_bytes);
    const std::uint64_t data_size = file_size - prefix_bytes - header_len;

    std::string text(header_len, '\0');
    read_exact(text.data(), header_len, "the header");
    const nlohmann::json header = parse_header(path, text);
    if (!header.is_object()) fail_read(path, "header is {}, expected a JSON object", a_type(header));

    file out;
    std::vector<entry> entries;
    for (const auto& [name, v] : header.items()) {
        if (name != metadata_key) {
            entries.push_back(parse_entry(path, name, v, data_size));
            continue;
        }
        if (!v.is_object()) fail_read(path, "__metadata__ is {}, expected an object of strings", a_type(v));
        for (const auto& [key, value] : v.items()) {
            if (!value.is_string())
                fail_read(path, "metadata value for '{}' is {} ({}), expected a string", key, a_type(value),
                          show(value));
            out.metadata.emplace(key, value.get<std::string>());
        }
    }

    // The format forbids holes and overlap, so sorted by offset the tensors
    // must tile the data region exactly; that also lets us read sequentially.
    std::sort(entries.begin(), entries.end(),
              [](const entry& x, const entry& y) { return std::tie(x.begin, x.end) < std::tie(y.begin, y.end); });
    std::uint64_t pos = 0;
    const entry* prev = nullptr;
    for (const auto& e : entries) {
        if (e.begin < pos)
            fail_read(path, "tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", prev->name, prev->begin, prev->end,
                      e.name, e.begin, e.end);
        if (e.begin > pos)
            fail_read(path, "has {} unused bytes at offset {} before tensor '{}', expected no holes in the data region",
                      e.begin - pos, pos, e.name);
        pos = e.end;
        prev = &e;
    }
    if (pos != data_size)
        fail_read(path, "has {} bytes of data after the last tensor, expected the tensors to cover the data "
                  "region exactly", data_size - pos);

    for (auto& e : entries) {
        tensor t;
        t.data.resize((e.end - e.begin) / f32_bytes);
        read_exact(reinterpret_cast<char*>(t.data.data()), e.end - e.begin, fmt::format("tensor '{}'", e.name));
        t.shape = std::move(e.shape);
        out.tensors.emplace(std::move(e.name), std::move(t));
    }
    return out;
}

void write(const fs::path& path, const file& f) {
    // Validate and build the header before touching the file system, so bad
    // input never creates a temporary file.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!f.metadata.empty()) header[std::string(metadata_key)] = f.metadata;
    std::uint64_t offset = 0;
    for (const auto& [name, t] : f.tensors) {
        if (name == metadata_key) fail_write(path, "the tensor name \"{}\" is reserved for metadata", metadata_key);
        const auto count = element_count(t.shape);
        if (!count)
            fail_write(path, "tensor '{}' has shape [{}], expected non-negative dimensions whose product fits 64 bits",
                       name, fmt::join(t.shape, ", "));
        if (*count != t.data.size())
            fail_write(path, "tensor '{}' has shape [{}] ({} values) but {} data values", name,
                       fmt::join(t.shape, ", "), *count, t.data.size());
        const std::uint64_t bytes = t.data.size() * f32_bytes;
        header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::type_error&) {
        fail_write(path, "a tensor name or metadata string is not valid UTF-8");
    }
    // Pad with spaces so the data region starts 8-byte aligned, as the reference writer does.
    text.append((prefix_bytes - text.size() % prefix_bytes) % prefix_bytes, ' ');

    fs::path tmp = path;
    tmp += fmt::format(".tmp.{}", ::getpid());
    std::FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) fail_write(path, "cannot create temporary file '{}': {}", tmp.string(), errno_text(errno));

    const auto abandon = [&](std::string_view step, int e) {
        if (out) std::fclose(out);
        std::error_code ignored;
        fs::remove(tmp, ignored);
        fail_write(path, "{} failed: {}", step, errno_text(e));
    };
    const auto put = [&](const void* p, std::size_t n) {
        if (n != 0 && std::fwrite(p, 1, n, out) != n) abandon("writing", errno);
    };

    char prefix[prefix_bytes];
    const std::uint64_t header_len = text.size();
    std::memcpy(prefix, &header_len, sizeof header_len);
    put(prefix, sizeof prefix);
    put(text.data(), text.size());
    for (const auto& [name, t] : f.tensors) put(t.data.data(), t.data.size() * f32_bytes);
    if (std::fflush(out) != 0) abandon("flushing", errno);
    if (::fsync(::fileno(out)) != 0) abandon("fsync", errno);
    const int close_result = std::fclose(out);
    out = nullptr;
    if (close_result != 0) abandon("closing", errno);

    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) abandon("renaming the temporary file over it", ec.value());

    // Make the rename itself durable; best effort, the data is already safe.
    const auto dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace constnet::safetensors
