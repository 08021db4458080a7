// Writes the seed corpora of the fuzz targets: valid files made by constnet's
// own writers (and gzip for IDX), so the fuzzers start from the structures the
// loaders accept and mutate from there.
//   fuzz_make_corpus DIR   -> DIR/safetensors, DIR/idx, DIR/checkpoint
#include "checkpoint_net.hpp"

#include <constnet/fit.hpp>
#include <constnet/model.hpp>
#include <constnet/safetensors.hpp>

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace st = constnet::safetensors;

namespace {

void write_plain(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw constnet::error(fmt::format("cannot write '{}'", p.string()));
}

void write_gz(const fs::path& p, const std::string& bytes) {
    gzFile g = gzopen(p.c_str(), "wb9");
    if (!g || gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()) ||
        gzclose(g) != Z_OK)
        throw constnet::error(fmt::format("cannot write '{}'", p.string()));
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

void idx_corpus(const fs::path& dir) {
    std::string pixels;
    for (int k = 0; k < 2 * 3 * 3; ++k) pixels += static_cast<char>(k * 13);
    const auto images = be32(0x00000803) + be32(2) + be32(3) + be32(3) + pixels;
    const auto labels = be32(0x00000801) + be32(3) + std::string("\x01\x09\x00", 3);
    write_plain(dir / "images_2x3x3", images);
    write_plain(dir / "labels_3", labels);
    write_gz(dir / "images_2x3x3.gz", images);
    write_gz(dir / "labels_3.gz", labels);
}

void safetensors_corpus(const fs::path& dir) {
    st::file weights;
    weights.metadata = {{"format", "pt"}};
    weights.tensors["0.weight"] = {{2, 1, 3, 3}, std::vector<float>(18, 0.25f)};
    weights.tensors["0.bias"] = {{2}, {1.0f, -1.0f}};
    weights.tensors["3.weight"] = {{3, 8}, std::vector<float>(24, -0.5f)};
    weights.tensors["3.bias"] = {{3}, {0.0f, 1.5f, 2.0f}};
    st::write(dir / "weights.safetensors", weights);
    st::file odd;  // a scalar, an empty tensor, no metadata
    odd.tensors["scalar"] = {{}, {3.0f}};
    odd.tensors["empty"] = {{0, 4}, {}};
    odd.tensors["z"] = {{1, 1}, {7.0f}};
    st::write(dir / "odd.safetensors", odd);
    st::write(dir / "empty.safetensors", st::file{});
}

void checkpoint_corpus(const fs::path& dir) {
    const auto infos = constnet::detail::parameters_of(constnet::fuzz::checkpoint_net.describe());
    std::vector<constnet::buffer> params, m, v;
    float value = 0.0f;
    for (const auto& p : infos) {
        std::vector<int> extents(p.shape.rbegin() + (4 - p.rank), p.shape.rend());
        for (auto* list : {&params, &m, &v}) {
            list->emplace_back(extents);
            for (long k = 0; k < p.size(); ++k) list->back().data()[k] = (value += 0.125f);
        }
    }
    constnet::fit_options o;
    o.seed = 1;
    o.batch = 4;
    std::vector<constnet::epoch_record> history{{1, 0.9, 0.6, 0.8, 0.65, 1.5, 40.0}};
    constnet::detail::fit_position at_epoch{1, 0, 0.0, 0, 0.0};
    constnet::detail::save_checkpoint(dir / "epoch_1.safetensors", "checkpoint_net", infos, params, m, v, 15,
                                      constnet::detail::fit_metadata(o, at_epoch, history));
    constnet::detail::fit_position mid{1, 8, 1.75, 5, 0.25};  // interrupted after two batches of epoch 2
    constnet::detail::save_checkpoint(dir / "interrupted.safetensors", "checkpoint_net", infos, params, m, v, 17,
                                      constnet::detail::fit_metadata(o, mid, history));
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    for (const char* d : {"safetensors", "idx", "checkpoint"}) fs::create_directories(root / d);
    safetensors_corpus(root / "safetensors");
    idx_corpus(root / "idx");
    checkpoint_corpus(root / "checkpoint");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
