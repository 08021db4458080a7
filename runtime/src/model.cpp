// The non-template half of constnet::model: parameter naming, initialization
// and weights I/O (calling generated code is in halide_hooks.cpp).
#include <constnet/model.hpp>
#include <constnet/safetensors.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

namespace constnet {

std::string parameter_info::name() const {
    return fmt::format("{}.{}", module_index(node), is_bias ? "bias" : "weight");
}

long parameter_info::size() const {
    long s = 1;
    for (int k = 0; k < rank; ++k) s *= shape[k];
    return s;
}

namespace detail {

void output_major(const buffer& w, buffer& wt) {
    const int rank = w.dimensions(), out = w.dim(rank - 1).extent();
    int in = 1;
    for (int d = 0; d + 1 < rank; ++d) in *= w.dim(d).extent();
    const int row = wt.dim(0).extent();  // out + layer_desc::weight_row_pad() unread floats
    const float* src = w.data();
    float* dst = wt.data();
    constexpr int block = 16;  // cache-sized blocks of rows and columns
    for (int o0 = 0; o0 < out; o0 += block)
        for (int i0 = 0; i0 < in; i0 += block)
            for (int o = o0; o < std::min(o0 + block, out); ++o)
                for (int i = i0; i < std::min(i0 + block, in); ++i) dst[static_cast<long>(i) * row + o] = src[static_cast<long>(o) * in + i];
}

void winograd_rows(const buffer& w, buffer& u, const layer_desc& d) {
    const int kh = w.dim(1).extent(), in = w.dim(2).extent(), out = w.dim(3).extent();
    const int row = u.dim(0).extent();  // out + layer_desc::weight_row_pad() unread floats
    const bool blocked = d.winograd_blocked_weight();
    const int points = d.winograd_outputs() + 2;  // F(2, 3) or F(4, 3)
    // G, row e for point e: Lavin & Gray's F(2, 3) (points 0, 1, -1,
    // infinity) and F(4, 3) (0, 1, -1, 2, -2, infinity), as
    // codegen/src/winograd.hpp derives them.
    static constexpr float f23[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    static constexpr float f43[6][3] = {{0.25f, 0, 0},
                                        {-1 / 6.0f, -1 / 6.0f, -1 / 6.0f},
                                        {-1 / 6.0f, 1 / 6.0f, -1 / 6.0f},
                                        {1 / 24.0f, 1 / 12.0f, 1 / 6.0f},
                                        {1 / 24.0f, -1 / 12.0f, 1 / 6.0f},
                                        {0, 0, 1}};
    const float(*g_of)[3] = points == 4 ? f23 : f43;
    const float* src = w.data();
    float* dst = u.data();
    // Where U's point e of input channel i, kernel row r, output channel o
    // goes: [in, kh, points, row], or in blocks [in / 16, out / 64, 4, 16,
    // kh, 64] (layer_desc::winograd_blocked_weight).
    const auto at = [&](int i, int r, int e, int o) -> long {
        if (!blocked) return ((static_cast<long>(i) * kh + r) * points + e) * row + o;
        constexpr int bi = layer_desc::winograd_in_block, bo = layer_desc::winograd_out_block;
        const long block = ((static_cast<long>(i / bi) * (out / bo) + o / bo) * 4 + e) * bi + i % bi;
        return (block * kh + r) * bo + o % bo;
    };
    // Output channels innermost: the writes are sequential runs; the reads
    // of one input channel's rows (kh x 3 floats per output channel) stay in
    // cache over its kernel rows.
    for (int i = 0; i < in; ++i)
        for (int r = 0; r < kh; ++r)
            for (int o = 0; o < out; ++o) {
                const float* g = src + ((static_cast<long>(o) * in + i) * kh + r) * 3;
                for (int e = 0; e < points; ++e)
                    dst[at(i, r, e, o)] = g_of[e][0] * g[0] + g_of[e][1] * g[1] + g_of[e][2] * g[2];
            }
}

long parse_count(const std::filesystem::path& path, const std::string& key, const std::string& text) {
    long v = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0)
        throw error(fmt::format("checkpoint '{}': metadata '{}' is \"{}\", expected a non-negative integer",
                                path.string(), key, text.substr(0, 40)));
    return v;
}

int batch_of(const buffer& input) {
    const int rank = input.dimensions();
    return rank ? input.dim(rank - 1).extent() : 0;
}

void check_labels(std::string_view network, const labels& target, int batch, int classes) {
    if (!target.data() || target.dimensions() != 1 || target.dim(0).extent() != batch)
        throw error(fmt::format("{}: expected {} labels (one per sample of the batch), got {}", network, batch,
                                target.data() ? format_extents(*target.raw_buffer()) : std::string("no data")));
    for (int k = 0; k < batch; ++k) {
        const int l = target(target.dim(0).min() + k);
        if (l < 0 || l >= classes)
            throw error(fmt::format("{}: label {} of the batch is {}, expected a class in [0, {})", network, k, l, classes));
    }
}

void check_targets(std::string_view network, const buffer& target, int batch, const tensor_shape& output) {
    const int rank = output.rank + 1;
    bool ok = target.data() && target.dimensions() == rank && target.dim(rank - 1).extent() == batch;
    for (int d = 0; ok && d < output.rank; ++d) ok = target.dim(d).extent() == output.dims[output.rank - 1 - d];
    if (!ok)
        throw error(fmt::format("{}: expected targets of {} x {}, got {}", network, batch, format_shape(output),
                                target.data() ? format_extents(*target.raw_buffer()) : std::string("no data")));
}

std::vector<parameter_info> parameters_of(std::span<const layer_desc> nodes) {
    std::vector<parameter_info> out;
    for (int idx = 0; idx < static_cast<int>(nodes.size()); ++idx) {
        const auto& d = nodes[idx];
        if (!d.has_params()) continue;
        parameter_info w;
        w.node = idx;
        w.rank = d.weight_rank();
        w.shape = d.weight_shape();
        const int receptive = d.kind == op::conv2d ? d.kh * d.kw : 1;
        w.fan_in = w.shape[1] * receptive;
        w.fan_out = w.shape[0] * receptive;
        out.push_back(w);
        if (d.bias) {
            parameter_info b = w;
            b.is_bias = true;
            b.rank = 1;
            b.shape = {d.units, 0, 0, 0};
            out.push_back(b);
        }
    }
    return out;
}

void init_parameters(std::span<const parameter_info> infos, std::span<buffer> params, std::uint64_t seed,
                     init_kind kind) {
    // mt19937_64's output sequence is fixed by the standard; the conversions
    // below are our own, so a seed gives the same weights everywhere.
    std::mt19937_64 rng(seed);
    auto uniform01 = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    auto uniform = [&](double a) { return static_cast<float>((2.0 * uniform01() - 1.0) * a); };
    auto normal = [&](double stddev) {  // Box-Muller
        const double u1 = 1.0 - uniform01(), u2 = uniform01();
        return static_cast<float>(stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
    };
    for (std::size_t k = 0; k < infos.size(); ++k) {
        const auto& p = infos[k];
        float* data = params[k].data();
        const long count = p.size();
        const double fan_in = p.fan_in, fan_out = p.fan_out;
        for (long e = 0; e < count; ++e) {
            switch (kind) {
            case init_kind::xavier_uniform:
                data[e] = p.is_bias ? 0.0f : uniform(std::sqrt(6.0 / (fan_in + fan_out)));
                break;
            case init_kind::kaiming_normal: data[e] = p.is_bias ? 0.0f : normal(std::sqrt(2.0 / fan_in)); break;
            case init_kind::pytorch_default: data[e] = uniform(1.0 / std::sqrt(fan_in)); break;
            }
        }
    }
}

namespace {

// The tensors a file must hold: name and parameter index.
struct expected_tensor {
    std::string name;
    std::size_t param;
};

// Checks the file holds exactly `expected` (names and shapes) before
// anything is copied: a bad file loses nothing.
void check_tensors(const std::filesystem::path& path, const char* what, const safetensors::file& f,
                   std::span<const parameter_info> infos, const std::vector<expected_tensor>& expected) {
    for (const auto& e : expected) {
        const auto& p = infos[e.param];
        auto it = f.tensors.find(e.name);
        if (it == f.tensors.end())
            throw error(fmt::format("{} '{}': missing tensor '{}' (expected shape [{}])", what, path.string(), e.name,
                                    fmt::join(std::span(p.shape).first(p.rank), ", ")));
        const auto& t = it->second;
        bool same = static_cast<int>(t.shape.size()) == p.rank;
        for (int d = 0; same && d < p.rank; ++d) same = t.shape[d] == p.shape[d];
        if (!same)
            throw error(fmt::format("{} '{}': tensor '{}' has shape [{}], expected [{}]", what, path.string(), e.name,
                                    fmt::join(t.shape, ", "), fmt::join(std::span(p.shape).first(p.rank), ", ")));
    }
    for (const auto& [name, t] : f.tensors) {
        bool known = false;
        for (const auto& e : expected) known |= e.name == name;
        if (!known)
            throw error(fmt::format("{} '{}': unexpected tensor '{}' (this network has no such parameter)", what,
                                    path.string(), name));
    }
}

void copy_in(const safetensors::file& f, const std::string& name, buffer& b) {
    const auto& t = f.tensors.at(name);
    std::memcpy(b.data(), t.data.data(), t.data.size() * sizeof(float));
}

safetensors::tensor tensor_of(const parameter_info& p, const buffer& b) {
    safetensors::tensor t;
    t.shape.assign(p.shape.begin(), p.shape.begin() + p.rank);
    t.data.assign(b.data(), b.data() + p.size());
    return t;
}

std::vector<expected_tensor> parameter_names(std::span<const parameter_info> infos, const std::string& prefix = "") {
    std::vector<expected_tensor> out;
    for (std::size_t k = 0; k < infos.size(); ++k) out.push_back({prefix + infos[k].name(), k});
    return out;
}

}  // namespace

void load_parameters(const std::filesystem::path& path, std::span<const parameter_info> infos,
                     std::span<buffer> params) {
    safetensors::file f = safetensors::read(path);
    check_tensors(path, "weights file", f, infos, parameter_names(infos));
    for (std::size_t k = 0; k < infos.size(); ++k) copy_in(f, infos[k].name(), params[k]);
}

void save_checkpoint(const std::filesystem::path& path, std::string_view network, std::span<const parameter_info> infos,
                     std::span<const buffer> params, std::span<const buffer> m, std::span<const buffer> v, long step,
                     std::map<std::string, std::string> metadata) {
    safetensors::file f;
    f.metadata = std::move(metadata);
    f.metadata["format"] = "pt";
    f.metadata["constnet.network"] = std::string(network);
    f.metadata["constnet.optimizer_step"] = std::to_string(step);
    for (std::size_t k = 0; k < infos.size(); ++k) {
        f.tensors.emplace(infos[k].name(), tensor_of(infos[k], params[k]));
        f.tensors.emplace("optimizer.m." + infos[k].name(), tensor_of(infos[k], m[k]));
        f.tensors.emplace("optimizer.v." + infos[k].name(), tensor_of(infos[k], v[k]));
    }
    safetensors::write(path, f);
}

std::map<std::string, std::string> load_checkpoint(const std::filesystem::path& path, std::string_view network,
                                                   std::span<const parameter_info> infos, std::span<buffer> params,
                                                   std::span<buffer> m, std::span<buffer> v, long& step,
                                                   const metadata_check& accept) {
    safetensors::file f = safetensors::read(path);
    auto expected = parameter_names(infos);
    for (const auto& e : parameter_names(infos, "optimizer.m.")) expected.push_back(e);
    for (const auto& e : parameter_names(infos, "optimizer.v.")) expected.push_back(e);
    check_tensors(path, "checkpoint", f, infos, expected);
    auto it = f.metadata.find("constnet.network");
    if (it == f.metadata.end() || it->second != network)
        throw error(fmt::format("checkpoint '{}': written for network '{}', expected '{}'", path.string(),
                                it == f.metadata.end() ? "(none)" : it->second, network));
    const auto s = f.metadata.find("constnet.optimizer_step");
    if (s == f.metadata.end())
        throw error(fmt::format("checkpoint '{}': metadata 'constnet.optimizer_step' is missing", path.string()));
    const long saved_step = parse_count(path, s->first, s->second);
    if (accept) accept(f.metadata);
    for (std::size_t k = 0; k < infos.size(); ++k) {
        copy_in(f, infos[k].name(), params[k]);
        copy_in(f, "optimizer.m." + infos[k].name(), m[k]);
        copy_in(f, "optimizer.v." + infos[k].name(), v[k]);
    }
    step = saved_step;
    return f.metadata;
}

void save_parameters(const std::filesystem::path& path, std::string_view network, std::span<const parameter_info> infos,
                     std::span<const buffer> params) {
    safetensors::file f;
    f.metadata["format"] = "pt";
    f.metadata["constnet.network"] = std::string(network);
    for (std::size_t k = 0; k < infos.size(); ++k) f.tensors.emplace(infos[k].name(), tensor_of(infos[k], params[k]));
    safetensors::write(path, f);
}

}  // namespace detail
}  // namespace constnet
