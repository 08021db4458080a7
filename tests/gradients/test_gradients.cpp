// Gradients of the training loss: codegen::lower_gradients (Halide autodiff,
// with the train step's schedules, JIT-compiled for the host) against
//  1. PyTorch autograd: make_gradient_cases.py (run by the ctest fixture
//     gradient_cases with Debian's python3-torch) writes one safetensors file
//     per case into CONSTNET_GRADIENT_CASE_DIR with the input, the labels or
//     targets, the nn.Sequential parameters, the loss and every parameter's
//     gradient ("<name>.grad") torch computed, and the layer configs and loss
//     kind as metadata. Tolerance per tensor:
//         max|constnet - torch| / max(max|torch|, 1e-6) <= 1e-4   (float32)
//  2. central finite differences of the loss that the same pipeline computes,
//     for the cases marked "finite_differences" (see that test's comment).
#include <constnet/codegen/lower.hpp>
#include <constnet/codegen/train.hpp>
#include <constnet/graph.hpp>
#include <constnet/safetensors.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "case_files.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace cg = constnet::codegen;
using constnet::layer_desc;
using namespace constnet::test;  // fs, st (constnet::safetensors) and the case-file helpers

// ------------------------------------------------------------------ one case

// A case file, its gradient pipeline compiled once, and the buffers bound to
// it. Parameter buffers alias the file's tensors, so a finite-difference
// probe changes an entry in place and calls run() again. Not movable (the
// buffers point into `file`).
struct gradient_case {
    fs::path path;
    std::string name;
    st::file file;
    std::vector<layer_desc> nodes;
    cg::loss_kind kind{};
    std::int64_t batch = 0;
    std::vector<std::string> param_names;  // state_dict names, in the pipeline's parameter order
    std::vector<Halide::Buffer<float>> params;
    Halide::Buffer<int32_t> labels;
    Halide::Buffer<float> target;
    std::vector<Halide::Buffer<void>> outputs;  // gradients in parameter order, then the 0-d loss
    std::unique_ptr<Halide::Pipeline> pipeline;
    const Halide::Target jit_target = cg::host_target();  // compiled for, and run with
    double compile_seconds = 0;

    explicit gradient_case(const fs::path& p) : path(p) {
        INFO("case file " << path.string());
        file = st::read(path);
        for (const char* key : {"case", "layers", "input", "loss"}) REQUIRE(file.metadata.count(key) == 1);
        name = file.metadata.at("case");
        INFO("case " << name << ", layers " << file.metadata.at("layers"));
        nodes = description_from(file);
        const std::string& loss = file.metadata.at("loss");
        REQUIRE((loss == "cross_entropy" || loss == "squared_error"));
        kind = loss == "cross_entropy" ? cg::loss_kind::cross_entropy : cg::loss_kind::squared_error;

        const auto t0 = std::chrono::steady_clock::now();
        cg::gradient_pipeline g = cg::lower_gradients(nodes, kind);

        REQUIRE(file.tensors.count("input") == 1);
        st::tensor& input = file.tensors.at("input");
        REQUIRE(!input.shape.empty());
        batch = input.shape[0];
        g.forward.input.set(as_buffer(input, pytorch_shape(nodes[0].out, batch), "input"));

        // Parameters in node order, weight then bias, named as nn.Sequential's
        // state_dict names them (module index = node index - 1).
        for (int idx = 1; idx < static_cast<int>(nodes.size()); ++idx) {
            const layer_desc& d = nodes[idx];
            if (!d.has_params()) continue;
            const int mod = constnet::module_index(idx);
            const auto ws = d.weight_shape();
            const std::string wname = fmt::format("{}.weight", mod), bname = fmt::format("{}.bias", mod);
            REQUIRE(file.tensors.count(wname) == 1);
            params.push_back(as_buffer(file.tensors.at(wname),
                                       std::vector<std::int64_t>(ws.begin(), ws.begin() + d.weight_rank()), wname));
            param_names.push_back(wname);
            REQUIRE(file.tensors.count(bname) == (d.bias ? 1u : 0u));
            if (d.bias) {
                params.push_back(as_buffer(file.tensors.at(bname), {d.units}, bname));
                param_names.push_back(bname);
            }
        }
        REQUIRE(params.size() == g.forward.params.size());
        REQUIRE(g.outputs.size() == params.size() + 1);
        for (std::size_t k = 0; k < params.size(); ++k) {
            INFO("parameter " << param_names[k]);
            const auto& e = g.forward.param_extents[k];
            REQUIRE(params[k].dimensions() == static_cast<int>(e.size()));
            for (std::size_t d = 0; d < e.size(); ++d) REQUIRE(params[k].dim(static_cast<int>(d)).extent() == e[d]);
            g.forward.params[k].set(params[k]);
            outputs.emplace_back(Halide::Buffer<float>(e));
        }
        outputs.emplace_back(Halide::Buffer<float>::make_scalar());

        if (kind == cg::loss_kind::cross_entropy) {
            // Labels are stored as F32 (the reader knows only F32).
            REQUIRE(file.tensors.count("labels") == 1);
            const st::tensor& l = file.tensors.at("labels");
            REQUIRE(l.shape == std::vector<std::int64_t>{batch});
            labels = Halide::Buffer<int32_t>(static_cast<int>(batch));
            for (std::int64_t b = 0; b < batch; ++b) {
                const float v = l.data[b];
                REQUIRE(v == std::floor(v));
                REQUIRE(v >= 0.0f);
                REQUIRE(v < float(nodes.back().out.features()));
                labels(static_cast<int>(b)) = static_cast<int32_t>(v);
            }
            g.target.set(labels);
        } else {
            REQUIRE(file.tensors.count("target") == 1);
            target = as_buffer(file.tensors.at("target"), pytorch_shape(nodes.back().out, batch), "target");
            g.target.set(target);
        }
        pipeline = std::make_unique<Halide::Pipeline>(g.outputs);
        pipeline->compile_jit(jit_target);
        compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    gradient_case(const gradient_case&) = delete;
    gradient_case& operator=(const gradient_case&) = delete;

    // Runs the pipeline on the current parameter values; returns the loss.
    float run() {
        Halide::Realization r(outputs);
        pipeline->realize(r, jit_target);
        return Halide::Buffer<float>(outputs.back())();
    }

    Halide::Buffer<float> gradient(std::size_t k) const { return Halide::Buffer<float>(outputs[k]); }
};

std::vector<fs::path> case_files() {
    const char* dir = std::getenv("CONSTNET_GRADIENT_CASE_DIR");
    INFO("CONSTNET_GRADIENT_CASE_DIR is " << (dir ? dir : "unset") << "; make_gradient_cases.py writes the cases");
    REQUIRE(dir != nullptr);
    return case_files_in(dir);
}

bool wants_finite_differences(const fs::path& path) {
    // Reading the whole file is cheap next to compiling its pipeline.
    const st::file f = st::read(path);
    const auto it = f.metadata.find("finite_differences");
    return it != f.metadata.end() && it->second == "1";
}

// max|got - want| / max(max|want|, 1e-6) over a tensor; NaN counts as infinity.
struct tensor_error {
    double rel = 0, abs = 0;
    std::size_t at = 0;
};

tensor_error relative_error(const float* got, const std::vector<float>& want) {
    tensor_error e;
    double scale = 0;
    for (float w : want) scale = std::max(scale, std::fabs(double(w)));
    scale = std::max(scale, 1e-6);
    for (std::size_t k = 0; k < want.size(); ++k) {
        double d = std::fabs(double(got[k]) - double(want[k]));
        if (std::isnan(d)) d = std::numeric_limits<double>::infinity();
        if (k == 0 || d > e.abs) e.abs = d, e.at = k;
    }
    e.rel = e.abs / scale;
    return e;
}

// ------------------------------------------------------------------- tests

TEST_CASE("loss and parameter gradients match PyTorch autograd on every case file", "[gradients]") {
    const std::vector<fs::path> cases = case_files();
    // No cases means the generator did not run or wrote nothing: that is a failure, not a pass.
    REQUIRE(!cases.empty());
    double worst = 0;
    std::string worst_where;
    for (const fs::path& path : cases) {
        gradient_case c(path);
        INFO("case " << c.name << " (" << path.string() << "), loss " << c.file.metadata.at("loss") << ", layers "
                     << c.file.metadata.at("layers"));
        const float loss = c.run();

        REQUIRE(c.file.tensors.count("loss") == 1);
        const st::tensor& want_loss = c.file.tensors.at("loss");
        REQUIRE(want_loss.data.size() == 1u);
        const tensor_error le = relative_error(&loss, want_loss.data);
        {
            INFO(fmt::format("loss: PyTorch {:.9g}, constnet {:.9g}, relative error {:.3g}", want_loss.data[0], loss,
                             le.rel));
            CHECK(le.rel <= 1e-4);
        }
        double case_worst = le.rel;
        std::string case_worst_name = "loss";
        for (std::size_t k = 0; k < c.params.size(); ++k) {
            const std::string gname = c.param_names[k] + ".grad";
            INFO("gradient " << gname);
            REQUIRE(c.file.tensors.count(gname) == 1);
            const st::tensor& want = c.file.tensors.at(gname);
            const Halide::Buffer<float> got = c.gradient(k);
            REQUIRE(static_cast<std::size_t>(got.number_of_elements()) == want.data.size());
            const tensor_error e = relative_error(got.data(), want.data);
            INFO(fmt::format("worst |difference| {:.3g} at flat index {} (PyTorch layout): PyTorch {:.9g}, constnet "
                             "{:.9g}; relative to max|PyTorch| {:.3g}",
                             e.abs, e.at, want.data[e.at], got.data()[e.at], e.rel));
            CHECK(e.rel <= 1e-4);
            if (e.rel > case_worst) case_worst = e.rel, case_worst_name = gname;
        }
        WARN(fmt::format("{:<36} lowered+compiled in {:5.2f} s; worst relative error {:.2e} ({})", c.name,
                         c.compile_seconds, case_worst, case_worst_name));
        if (case_worst >= worst) worst = case_worst, worst_where = c.name + " " + case_worst_name;
    }
    WARN(cases.size() << " PyTorch gradient cases compared; worst relative error " << fmt::format("{:.2e}", worst)
                      << " (" << worst_where << ")");
}

// Central differences (L(p + h) - L(p - h)) / (2h) for a sample of entries of
// every parameter, L being the loss output of the same pipeline (the forward
// and loss graph, with the parameter buffer changed in place). The step h
// comes from the case file (1e-2, or 1e-3 for the max-pool case, where the
// generator made sure no window's maximum changes hands within +-h). The
// quotient is formed in double from the float losses, dividing by the step
// actually taken, float(p + h) - float(p - h).
//
// Tolerance: |quotient - gradient| <= 1e-2 |gradient| + floor. float32 allows
// no more than that: the loss is a float sum whose rounding error is a few
// ulps of |L| (~1e-7 |L| each), which the quotient magnifies by 1/(2h), and
// the truncation error of a central difference is O(h^2) (zero for the
// quadratic squared-error cases with one conv). The floor is
//     1e-3 * max|gradient of that tensor| + 32 * FLT_EPSILON * max(|L|, 1) / (2h),
// i.e. a 1e-3 share of the tensor's scale plus 32 ulps of the loss over the
// step. A wrong gradient (a misrouted max, a missing padding term, a
// transposed weight) is off by O(1) relative, far outside.
TEST_CASE("parameter gradients match central finite differences of the loss", "[gradients]") {
    const std::vector<fs::path> all = case_files();
    std::vector<fs::path> cases;
    for (const fs::path& p : all)
        if (wants_finite_differences(p)) cases.push_back(p);
    INFO(all.size() << " case files, " << cases.size() << " marked finite_differences");
    REQUIRE(!cases.empty());
    constexpr int samples_per_tensor = 6;
    double worst = 0;  // |quotient - gradient| / tolerance
    std::string worst_where;
    int probes = 0;
    for (const fs::path& path : cases) {
        gradient_case c(path);
        INFO("case " << c.name << " (" << path.string() << "), layers " << c.file.metadata.at("layers"));
        REQUIRE(c.file.metadata.count("fd_step") == 1);
        const double h = std::stod(c.file.metadata.at("fd_step"));
        REQUIRE((h >= 1e-4 && h <= 1e-1));
        const float loss = c.run();
        std::vector<Halide::Buffer<float>> grads;
        for (std::size_t k = 0; k < c.params.size(); ++k) grads.push_back(c.gradient(k).copy());
        const double noise = 32.0 * std::numeric_limits<float>::epsilon() * std::max(std::fabs(double(loss)), 1.0) /
                             (2.0 * h);
        double case_worst = 0;
        for (std::size_t k = 0; k < c.params.size(); ++k) {
            float* p = c.params[k].data();
            const float* g = grads[k].data();
            const auto size = static_cast<std::size_t>(c.params[k].number_of_elements());
            double gmax = 0;
            for (std::size_t e = 0; e < size; ++e) gmax = std::max(gmax, std::fabs(double(g[e])));
            const std::size_t count = std::min<std::size_t>(size, samples_per_tensor);
            for (std::size_t s = 0; s < count; ++s) {
                // Evenly spaced entries, first and last included (flat PyTorch order).
                const std::size_t e = count == 1 ? 0 : s * (size - 1) / (count - 1);
                const float original = p[e];
                const float plus = static_cast<float>(original + h), minus = static_cast<float>(original - h);
                p[e] = plus;
                const float lp = c.run();
                p[e] = minus;
                const float lm = c.run();
                p[e] = original;
                const double quotient = (double(lp) - double(lm)) / (double(plus) - double(minus));
                const double tol = 1e-2 * std::fabs(double(g[e])) + 1e-3 * gmax + noise;
                const double diff = std::fabs(quotient - double(g[e]));
                INFO(fmt::format("{}[{}] (flat, PyTorch layout), h {}: central difference {:.7g}, gradient {:.7g}, "
                                 "|difference| {:.3g}, tolerance {:.3g} (loss {:.7g})",
                                 c.param_names[k], e, h, quotient, g[e], diff, tol, loss));
                CHECK(diff <= tol);
                ++probes;
                const double ratio = std::isnan(diff) ? std::numeric_limits<double>::infinity() : diff / tol;
                case_worst = std::max(case_worst, ratio);
                if (ratio >= worst) worst = ratio, worst_where = fmt::format("{} {}[{}]", c.name, c.param_names[k], e);
            }
        }
        WARN(fmt::format("{:<36} finite differences: worst |difference| / tolerance {:.3f}", c.name, case_worst));
    }
    WARN(cases.size() << " cases, " << probes << " finite-difference probes; worst |difference| / tolerance "
                      << fmt::format("{:.3f}", worst) << " (" << worst_where << ")");
}

}  // namespace
