// Train step and eval pipelines. The forward algorithm is lower_forward's;
// the loss is defined on its output, gradients come from Halide's autodiff,
// and the optimizer update is an elementwise Func per parameter.
#include <constnet/codegen/train.hpp>

#include "winograd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

namespace constnet::codegen {

using namespace Halide;
using namespace winograd_detail;

namespace {

// The names lower.cpp gives the dimensions of every Func (x, y, c, n, and
// i for features); j_var: a dense layer's input feature (here only).
const Var x("x"), y("y"), c("c"), n("n"), i("i"), j_var("j");

std::vector<Var> vars(int rank) {
    std::vector<Var> v;
    for (int k = 0; k < rank; ++k) v.emplace_back(fmt::format("d{}", k));
    return v;
}

std::vector<Expr> exprs(const std::vector<Var>& v) { return {v.begin(), v.end()}; }

Expr batch_extent(const forward_pipeline& f) { return f.input.dim(f.input.dimensions() - 1).extent(); }

struct loss_funcs {
    Func loss, correct;
    std::vector<Func> internal;  // for schedules
};

// The loss on the network's output. Cross-entropy takes logits, as
// nn.CrossEntropyLoss; a network ending in softmax is read before it.
loss_funcs define_loss(std::span<const layer_desc> nodes, const forward_pipeline& f, loss_kind kind,
                       ImageParam& target) {
    loss_funcs r;
    const Expr batch = batch_extent(f);
    const layer_desc& last = nodes.back();
    r.loss = Func("loss");
    r.correct = Func("correct");
    if (kind == loss_kind::cross_entropy) {
        if (last.out.rank != 1)
            throw std::invalid_argument(fmt::format(
                "constnet: cross-entropy needs class scores (a flat output), but the network's output is {}",
                last.out.rank == 3 ? "C x H x W" : "empty"));
        const bool softmax_last = last.kind == op::softmax;
        Func z = softmax_last ? f.nodes[nodes.size() - 2] : f.output;
        const int classes = last.out.features();
        target = ImageParam(Int(32), 1, "labels");
        target.dim(0).set_min(0).set_extent(batch);
        // -1 outside the batch: matches no class (see bounded_reads).
        Func label = BoundaryConditions::constant_exterior(target, -1, {{0, batch}});
        RDom k(0, classes, "classes");
        // log-sum-exp around the maximum (differentiable: see running_max).
        auto running = running_max(z, classes, "loss_max");
        Func mx = running.max;
        Func se("loss_sumexp"), picked("loss_picked"), nll("loss_nll");
        se(n) = 0.0f;
        se(n) += exp(z(k, n) - mx(n));
        picked(n) = 0.0f;
        picked(n) += select(k == label(n), z(k, n), 0.0f);  // a reduction, not a gather
        nll(n) = mx(n) + log(se(n)) - picked(n);
        RDom b(0, batch, "batch");
        r.loss() = 0.0f;
        r.loss() += nll(b) / cast<float>(batch);
        Func best("predicted");
        best(n) = argmax(z(k, n))[0];  // the first maximum, as torch.argmax
        r.correct() = 0;
        r.correct() += select(best(b) == label(b), 1, 0);
        r.internal = {running.scan, se, picked, nll, best};
    } else {
        const int rank = static_cast<int>(f.output_extents.size()) + 1;
        target = ImageParam(Float(32), rank, "targets");
        constrain(target, f.output_extents);
        target.dim(rank - 1).set_extent(batch);
        Region region;
        for (int e : f.output_extents) region.push_back({0, e});
        region.push_back({0, batch});
        Func t = BoundaryConditions::constant_exterior(target, 0.0f, region);  // see bounded_reads
        RDom all(region, "elements");
        std::vector<Expr> at;
        for (int d = 0; d < rank; ++d) at.push_back(all[d]);
        Expr diff = f.output(at) - t(at);
        r.loss() = 0.0f;
        r.loss() += diff * diff;
        r.correct() = 0;
    }
    return r;
}

// PyTorch's update rules (torch.optim.SGD with momentum and weight decay,
// torch.optim.Adam with L2 weight decay), chosen at run time by hyper(0),
// applied to the gradient accumulated over the step's parts (see train.hpp)
// when hyper(8) says so.
//
// Each of these outputs may also be passed empty (extent 0 in its last
// dimension): the caller skips what it will not read. A part that only
// accumulates writes no parameters or moments (they would be copies), the
// last part no accumulated gradient, SGD no moments, momentum no second
// moment. LeNet, batch 256 in parts of 64, one thread: the copies took
// 0.28 ms of a 7.6 ms step (Halide's profiler); the step (constnet_bench
// --filter train, old and new alternating, mins of 5 and 6 runs) 6.45 /
// 6.70 -> 6.36 / 6.18 ms. (With the gradient read at plain coordinates,
// the bounds of every gradient Func became run-time values: 6.2 -> 6.6.)
void constrain_skippable(OutputImageParam b, const std::vector<int>& extents) {
    // The last dimension's extent left free: the full one or 0 (anything
    // larger fails the checks of what it reads).
    constrain(b, std::vector<int>(extents.begin(), extents.end() - 1));
}

struct update {
    Func param, m, v, grad;
};

update define_update(const ImageParam& p, const std::vector<int>& extents, const Func& grad, const ImageParam& m_in,
                     const ImageParam& v_in, const ImageParam& grad_in, const ImageParam& hyper) {
    const auto vs = vars(p.dimensions());
    const auto at = exprs(vs);
    Expr kind = hyper(0), lr = hyper(1), momentum = hyper(2), decay = hyper(3);
    Expr beta1 = hyper(4), beta2 = hyper(5), eps = hyper(6), step = hyper(7);
    Expr apply = hyper(8) != 0.0f, accumulate = hyper(9) != 0.0f, scale = hyper(10);
    update u{Func(p.name() + "_next"), Func(p.name() + "_m_next"), Func(p.name() + "_v_next"),
             Func(p.name() + "_grad_next")};
    // The gradient read at its last coordinate modulo the parameter's
    // extent (a no-op: the inputs read at the same coordinates are checked
    // against their exact extents): so bounds inference gives the gradient
    // Funcs constant bounds whatever the outputs' extents. Once per row of
    // a matrix or kernel; vectors (biases) would gather, and keep theirs.
    std::vector<Expr> within = at;
    if (within.size() > 1) within.back() = within.back() % extents.back();
    const Expr accumulated = select(accumulate, grad_in(at), 0.0f) + scale * grad(within);
    u.grad(vs) = accumulated;
    Expr w = p(at), m = m_in(at), v = v_in(at);
    Expr g = accumulated + decay * w;
    Expr m_momentum = momentum * m + g;  // the buffer starts at 0, so step 1 gives g, as PyTorch
    Expr m_adam = beta1 * m + (1.0f - beta1) * g;
    Expr v_adam = beta2 * v + (1.0f - beta2) * g * g;
    Expr m_hat = m_adam / (1.0f - pow(beta1, step));
    Expr v_hat = v_adam / (1.0f - pow(beta2, step));
    u.param(vs) = select(!apply, w, kind == 0.0f, w - lr * g, kind == 1.0f, w - lr * m_momentum,
                         w - lr * m_hat / (sqrt(v_hat) + eps));
    u.m(vs) = select(apply && kind == 1.0f, m_momentum, apply && kind == 2.0f, m_adam, m);
    u.v(vs) = select(apply && kind == 2.0f, v_adam, v);
    for (Func f : {u.param, u.m, u.v, u.grad}) constrain_skippable(f.output_buffer(), extents);
    return u;
}

// The last call of a step in parts (train.hpp) runs its optimizer's rule
// alone: the new parameters and moments are specialized on it (no select
// over the optimizers per element). The calls before write none of them
// (see above). (Specializing on hyper(8) too, as the copies were before,
// fails in Halide 14 with their extents free: "Name not in Scope".)
// LeNet, parts of 64, one thread (Halide's profiler, per call): dense1's
// new weights 0.050 -> 0.027 ms, its first moment 0.034 -> 0.020.
void specialize_update(const update& u, const ImageParam& hyper) {
    const Expr kind = hyper(0);
    for (Func f : {u.param, u.m, u.v}) {
        f.specialize(kind == 0.0f);
        f.specialize(kind == 1.0f);
    }
}

// The train step's schedule. Autodiff makes many Funcs of a few shapes: the
// forward's, elementwise adjoints, gather-form convolutions (input
// gradients) and reductions over the batch (weight gradients). The layers'
// main stages get schedules of their own (schedule_layers); for the rest, the
// generic schedule: every Func that is more than a call of another is
// computed at root; each definition vectorizes its innermost pure dimension
// and parallelizes its outermost; an update keeps a few rows of accumulators
// in registers while its reduction runs. Trivial wrappers (a cast of a call)
// are inlined.
bool is_trivial(const Internal::Function& f) {
    if (f.has_update_definition() || f.values().size() != 1) return false;
    Expr v = f.values()[0];
    if (const auto* cast = v.as<Internal::Cast>()) v = cast->value;
    const auto* call = v.as<Internal::Call>();
    return call && (call->call_type == Internal::Call::Halide || call->call_type == Internal::Call::Image);
}

// Pure vars that appear verbatim, at their own position, in a definition's
// left-hand side: only those may be split, vectorized and parallelized.
std::vector<std::optional<Var>> verbatim_pure_vars(const Func& f, int update) {
    const auto args = f.args();
    if (update < 0) return {args.begin(), args.end()};
    std::vector<std::optional<Var>> out;
    const auto lhs = f.update_args(update);
    for (std::size_t k = 0; k < args.size(); ++k) {
        const auto* v = lhs[k].as<Internal::Variable>();
        if (v && v->name == args[k].name() && !v->reduction_domain.defined()) out.emplace_back(args[k]);
        else out.emplace_back();
    }
    return out;
}

void schedule_stage(Stage s, const std::vector<std::optional<Var>>& maybe_pure, const std::vector<RVar>& rvars, int vec,
                    TailStrategy tail) {
    const int dims = static_cast<int>(maybe_pure.size());
    auto usable = [&](int k) { return k < dims && maybe_pure[k].has_value(); };
    std::vector<Var> pure;
    for (const auto& v : maybe_pure) pure.push_back(v.value_or(Var()));
    std::vector<VarOrRVar> order;
    Var inner_rows("rows_i"), outer_rows("rows_o");
    bool rows = false;
    if (usable(0)) order.emplace_back(pure[0]);
    if (usable(1) && !rvars.empty()) {  // a few rows of accumulators inside the reduction
        s.split(pure[1], outer_rows, inner_rows, 4, TailStrategy::GuardWithIf);
        order.emplace_back(inner_rows);
        rows = true;
    }
    for (const RVar& r : rvars) order.emplace_back(r);
    if (rows) order.emplace_back(outer_rows);
    for (int k = rows ? 2 : 1; k < dims; ++k)
        if (usable(k)) order.emplace_back(pure[k]);
    if (order.size() <= 1 && !usable(0)) {  // nothing to split, vectorize or parallelize
        s.unscheduled();
        return;
    }
    if (order.size() > 1) s.reorder(order);
    if (usable(0)) s.vectorize(pure[0], vec, tail);
    if (rows) s.unroll(inner_rows);
    if (dims >= 2 && usable(dims - 1) && (dims - 1 > 1 || !rows)) s.parallel(pure[dims - 1]);
}

std::map<std::string, Internal::Function> reachable(const std::vector<Func>& outputs) {
    std::map<std::string, Internal::Function> env;
    for (const Func& o : outputs) {
        auto e = Internal::find_transitive_calls(o.function());
        env.insert(e.begin(), e.end());
    }
    return env;
}

// Images in the vector lanes. A train step runs a batch, and every Func of
// images (x, y, c, n) is stored samples innermost and computed in vectors
// of V images (16 on AVX-512): each vector is full whatever the layer's
// width (LeNet's conv2 rows of 10 filled 10 of 16 lanes), no load is
// unaligned or strided, and a pool's or conv's taps are whole vectors.
// The batch rounds up to a multiple of V; the extra images read the input
// as 0 and their labels as -1 (bounded_reads), so their gradients are 0.
// Feature vectors (i, n) of the dense layers too: their products run
// with the images in the lanes, broadcasting one weight per output (see
// schedule_dense_forward).
bool of_images(const Func& f) {
    const int d = f.dimensions();
    return (d == 4 || d == 2) && f.args()[d - 1].name() == n.name();
}

void images_innermost(Func f) {
    auto a = f.args();
    std::rotate(a.begin(), a.end() - 1, a.end());  // (n, x, y, c) or (n, i)
    f.reorder_storage(a);
}

// A stage in vectors of V images, the blocks of V images in parallel: loops
// (ni, inner..., no) innermost first, n the Func's image dimension.
void in_image_vectors(Stage s, const Var& n, std::vector<VarOrRVar> inner, const machine& m) {
    Var no("no"), ni("ni");
    inner.insert(inner.begin(), ni);
    inner.emplace_back(no);
    s.split(n, no, ni, m.vec, TailStrategy::RoundUp).reorder(inner).vectorize(ni).parallel(no);
}

// At root, vectors of V images, the blocks of V images in parallel: loops
// (ni, x, y, c, no) or (ni, i, no) innermost first.
void images_at_root(Func f, const machine& m) {
    const auto a = f.args();
    f.compute_root();
    images_innermost(f);
    in_image_vectors(f, a.back(), {a.begin(), a.end() - 1}, m);
}

// A copy of f (a Func of images) for `reader` alone, computed at `at`, the
// images innermost in vectors: what the reader's tiles read, in cache, with
// the copy's own (often constant) strides. Marked done.
Func images_copy(Func f, Func reader, LoopLevel at, int vec, std::set<std::string>& done) {
    Func copy = f.in(reader);
    copy.compute_at(at);
    images_innermost(copy);
    copy.vectorize(copy.args().back(), vec);
    done.insert(copy.name());
    return copy;
}

// Every stage of a Func of images: the pure definition as images_at_root,
// updates that write whole vectors of images likewise (their reduction
// inside), others by the generic stage schedule.
void schedule_image_stages(Func f, const machine& m) {
    images_at_root(f, m);
    const auto a = f.args();
    const int last = f.dimensions() - 1;
    for (int u = 0; u < f.num_update_definitions(); ++u) {
        const auto pure = verbatim_pure_vars(f, u);
        Stage s = f.update(u);
        if (!pure[last]) {
            schedule_stage(s, pure, f.rvars(u), m.vec, TailStrategy::RoundUp);
            continue;
        }
        std::vector<VarOrRVar> inner;
        for (const RVar& r : f.rvars(u)) inner.emplace_back(r);
        for (int k = 0; k < last; ++k)
            if (pure[k]) inner.emplace_back(*pure[k]);
        in_image_vectors(s, a[last], inner, m);
    }
}

// `scheduled`: Funcs a layer's schedule took care of (schedule_layers).
void schedule_generic(const std::vector<Func>& outputs, const Target& target, const std::set<std::string>& scheduled) {
    const auto env = reachable(outputs);
    const machine m = machine_for(target);
    std::set<std::string> output_names;
    for (const Func& o : outputs) output_names.insert(o.name());
    for (auto& [name, fn] : env) {
        if (scheduled.count(name)) continue;
        Func f(fn);
        const bool output = output_names.count(name) > 0;
        if (!output && is_trivial(fn)) continue;  // inlined
        if (!output && of_images(f)) {
            schedule_image_stages(f, m);
            continue;
        }
        if (!output) f.compute_root();
        if (f.dimensions() == 0) continue;
        // Internal Funcs round their vectors up (every read they add outside
        // the bounds is of a padded, clamped or zero-extended Func); outputs guard.
        const TailStrategy tail = output ? TailStrategy::GuardWithIf : TailStrategy::RoundUp;
        schedule_stage(f, verbatim_pure_vars(f, -1), {}, m.vec, tail);
        for (int u = 0; u < f.num_update_definitions(); ++u)
            schedule_stage(f.update(u), verbatim_pure_vars(f, u), f.rvars(u), m.vec, tail);
    }
}

// Estimates for the autoscheduler: every buffer's constant extents, and a
// batch of 256 (d2l's batch size).
constexpr int batch_estimate = 256;

void estimate(OutputImageParam b, const std::vector<int>& extents) {
    Region r;
    for (int e : extents) r.push_back({0, e});
    while (static_cast<int>(r.size()) < b.dimensions()) r.push_back({0, batch_estimate});
    b.set_estimates(r);
}

}  // namespace

std::vector<Argument> train_pipeline::arguments() const {
    std::vector<Argument> args = forward.arguments();
    args.emplace_back(target);
    for (const auto& p : m) args.emplace_back(p);
    for (const auto& p : v) args.emplace_back(p);
    for (const auto& p : grads) args.emplace_back(p);
    args.emplace_back(hyper);
    return args;
}

std::vector<Argument> eval_pipeline::arguments() const {
    std::vector<Argument> args = forward.arguments();
    args.emplace_back(target);
    return args;
}

namespace {

struct dense_gradient {
    Func g, sum, in_t;  // g reads sum in tiles; in_t: the source with its features innermost
};

struct backward {
    forward_pipeline forward;
    ImageParam target;
    loss_funcs loss;
    std::vector<Func> grads;  // per parameter
    std::optional<Derivative> adjoints;
    // Per sigmoid or tanh node (by index): the gradient of its input, in
    // the form computed from the activation's value (see activation_rules).
    std::map<std::size_t, Func> activation_grads;
    // Per dense node (by index): its weight gradient (dense_weight_gradients).
    std::map<std::size_t, dense_gradient> dense_grads;
};

// Every call of `from` in the Funcs of `env` becomes a call of `to` (a
// gradient of ours taking the place of autodiff's).
void replace_calls(const std::map<std::string, Internal::Function>& env, const Func& from, const Func& to) {
    for (const auto& entry : env) {
        Internal::Function f = entry.second;  // a handle: substitutes in the pipeline's Function
        f.substitute_calls(from.function(), to.function());
    }
}

// The shape a dense layer's input has before flattening: a flatten of a
// flat input passes its own source through (lower.cpp, define_flatten).
const tensor_shape& dense_source(std::span<const layer_desc> nodes, const layer_desc& d) {
    int p = d.inputs[0];
    while (nodes[p].kind == op::flatten && nodes[p].in.rank == 1 && p > 0) p = nodes[p].inputs[0];
    return nodes[p].kind == op::flatten ? nodes[p].in : d.in;
}

// Whether a dense layer reads the network's input (through flattens only):
// stored as given, features innermost.
bool reads_network_input(std::span<const layer_desc> nodes, const layer_desc& d) {
    int p = d.inputs[0];
    while (nodes[p].kind == op::flatten) p = nodes[p].inputs[0];
    return p == 0;
}

// How many nodes read node `a`.
int readers(std::span<const layer_desc> nodes, int a) {
    int count = 0;
    for (const auto& e : nodes)
        for (int in : e.inputs) count += in == a;
    return count;
}

// Sigmoid's and tanh's derivatives from their values, as PyTorch's backward
// computes them: for s = 1 / (1 + exp(-v)), dv = ds * s * (1 - s); for
// t = tanh(v), dv = dt * (1 - t * t). Autodiff differentiates the forward
// expression instead, ds * exp(-v) / (1 + exp(-v))^2: an exp and a division
// per element, from v. Each activation whose input is read by it alone gets
// the rule: every call of autodiff's gradient of the input is replaced by a
// call of the rule's Func, which reads the stored activation. LeNet, batch
// 256, one thread (Halide's profiler): conv1's and conv2's activation
// gradients 1.34 + 0.64 ms -> 0.78 + 0.56 ms, and the forward evaluates each
// sigmoid once, in the conv's tiles (the pools read it: pool1 0.70 -> 0.27
// ms); the step 23.9 -> 23.0 ms under the profiler.
void activation_rules(std::span<const layer_desc> nodes, backward& b, const std::vector<Func>& outputs) {
    const Derivative& adjoint = *b.adjoints;
    for (std::size_t idx = 1; idx < nodes.size(); ++idx) {
        const layer_desc& d = nodes[idx];
        if ((d.kind != op::sigmoid && d.kind != op::tanh) || readers(nodes, d.inputs[0]) != 1) continue;
        Func act = b.forward.nodes[idx];
        Func dpre = adjoint(b.forward.nodes[d.inputs[0]]), dact = adjoint(act);
        if (!dpre.defined() || !dact.defined() || dpre.has_update_definition() ||
            dpre.dimensions() != act.dimensions())
            continue;
        const auto args = act.args();
        const Expr v = act(args);
        Func rule(dpre.name() + "_rule");
        rule(args) = dact(args) * (d.kind == op::sigmoid ? v * (1.0f - v) : 1.0f - v * v);
        replace_calls(reachable(outputs), dpre, rule);
        b.activation_grads[idx] = rule;
    }
}

// A dense layer's weight gradient in PyTorch's layout, g(j, i) = sum over
// the batch of in(j, n) * dacc(i, n) (j the input feature, innermost, i the
// output unit): computed so, the update reads it as it is stored. Autodiff's
// is the gradient of the forward's transposed weights wt(i, j), which the
// update read with a stride of `units` floats per element (a pure
// transpose, inlined). The source (images innermost) is first copied with
// its features innermost (in_t). LeNet, parts of 64,
// one thread, Halide's profiler per call: dense1's gradient 0.069 ms, new
// weights 0.025, accumulated gradient 0.023 -> copy 0.013, gradient 0.053,
// 0.016, 0.019. The step (constnet_bench --filter train, 8 rounds
// alternating with the transposed form, min / median) 6.25 / 6.50 -> 6.12 /
// 6.29 ms.
void dense_weight_gradients(std::span<const layer_desc> nodes, backward& b) {
    const Derivative& adjoint = *b.adjoints;
    const Expr batch = batch_extent(b.forward);
    std::size_t k = 0;  // the weight's parameter index: params are in node order, weight then bias
    for (std::size_t idx = 1; idx < nodes.size(); ++idx) {
        const layer_desc& d = nodes[idx];
        if (!d.has_params()) continue;
        const auto& parts = b.forward.parts[idx];
        Func dacc = d.kind == op::dense ? adjoint(parts.acc, parts.acc.num_update_definitions() - 1) : Func();
        if (dacc.defined() && b.grads[k].dimensions() == 2) {
            const Var& j = j_var;
            const std::string name = b.forward.params[k].name();
            dense_gradient dg;
            dg.in_t = Func(name + "_dw_in");
            if (parts.input.dimensions() == 4) {
                const tensor_shape& s = dense_source(nodes, d);
                const int W = s.w(), H = s.h();
                dg.in_t(j, n) = parts.input(j % W, (j / W) % H, j / (W * H), n);
            } else {
                dg.in_t(j, n) = parts.input(j, n);
            }
            Func in_t = dg.in_t;
            RDom r(0, batch, name + "_dw_r");
            dg.sum = Func(name + "_dw_sum");
            dg.sum(j, i) = 0.0f;
            dg.sum(j, i) += in_t(j, r) * dacc(i, r);
            dg.g = Func(name + "_dw");
            dg.g(j, i) = dg.sum(j, i);
            b.grads[k] = dg.g;
            b.dense_grads[idx] = dg;
        }
        k += d.param_tensors();
    }
}

backward define_backward(std::span<const layer_desc> nodes, loss_kind kind, const lower_options& opt) {
    backward b;
    lower_options fwd = opt;
    fwd.schedule = false;
    fwd.output_is_pipeline_output = false;
    fwd.bounded_reads = true;
    fwd.weights_output_major = false;  // a train step takes and returns PyTorch's layouts (schedule_layers assumes them)
    b.forward = lower_forward(nodes, fwd);
    if (b.forward.params.empty()) throw std::invalid_argument("constnet: training needs a network with parameters");
    b.loss = define_loss(nodes, b.forward, kind, b.target);
    b.adjoints.emplace(propagate_adjoints(b.loss.loss));
    for (const auto& p : b.forward.params) {
        Func g = (*b.adjoints)(Func(p));
        if (!g.defined()) throw std::logic_error(fmt::format("constnet: autodiff found no gradient for {}", p.name()));
        b.grads.push_back(g);
    }
    dense_weight_gradients(nodes, b);
    std::vector<Func> outputs = b.grads;
    outputs.push_back(b.loss.loss);
    activation_rules(nodes, b, outputs);
    return b;
}

// A dense layer in a train step. Its forward reduction acc(i, n) += wt(i, j)
// * in(j, n) is a matrix product over the batch, vectorized over samples,
// at root. Its input gradient din(j.., n) += dacc(i, n) * wt(i, j..) over i
// is one too: tiles of a few inputs x vectors of samples, loading dacc
// (samples innermost) and broadcasting weights.
void schedule_dense_forward(const forward_pipeline::node_parts& parts, const layer_desc& d, bool reads_input,
                            const machine& m, std::set<std::string>& done) {
    // Tiles of ti outputs x one vector of images (images innermost, as every
    // Func of images here): each step of the reduction loads one input
    // vector and broadcasts ti weights, read in PyTorch's (out, in) layout
    // as they are. Before, vectors of outputs x a block of samples, from
    // weights transposed on every call (0.022-0.043 ms per part of 64 for
    // dense1, Halide's profiler). LeNet, one thread (constnet_bench,
    // alternating): forward at batch 256 (lower_forward_batched) 2.53-2.79
    // -> 2.29-2.49 ms (mins of 4 rounds), the train step 6.41 / 6.69 ->
    // 6.31 / 6.59 ms (min / median of 8).
    Func acc = parts.acc;
    const int ti = divisor_at_most(d.units, m.accumulators);
    Var io("io"), ii("ii"), no("no"), ni("ni");
    Func fwd = acc.in();
    fwd.compute_root();
    images_innermost(fwd);
    fwd.split(i, io, ii, ti)
        .split(n, no, ni, m.vec, TailStrategy::RoundUp)
        .reorder(ni, ii, io, no)
        .vectorize(ni)
        .unroll(ii)
        .parallel(no);
    acc.compute_at(fwd, io);
    images_innermost(acc);
    acc.reorder(n, i).vectorize(n, m.vec).unroll(i);
    std::vector<VarOrRVar> order{n, i};
    for (const RVar& r : acc.rvars()) order.emplace_back(r);
    acc.update().reorder(order).vectorize(n, m.vec).unroll(i);
    Func(parts.wt).compute_inline();
    // The network's input, features innermost as given, is copied per
    // vector of images with the images innermost (else every load gathers).
    if (reads_input) images_copy(parts.input, acc, LoopLevel(fwd, no), m.vec, done);
    done.insert({acc.name(), fwd.name(), parts.wt.name()});
}

// A dense layer's weight gradient g(j, i) (dense_weight_gradients): tiles
// of tj vectors of inputs x ti outputs accumulate in registers while the
// batch runs (each step loads tj vectors of the input and broadcasts ti
// output gradients), the tiles in parallel.
void schedule_dense_weight_gradient(const dense_gradient& dg, const layer_desc& d, const machine& m,
                                    std::set<std::string>& done) {
    const int J = static_cast<int>(d.in.size()), I = d.units, uv = vector_width(J, m);
    int tj = 1, ti = 1;
    double best = -1;
    for (int a = 1; a * uv <= J && a <= m.accumulators; ++a) {
        const int b = divisor_at_most(I, m.accumulators / a);
        const int tiles = (J + a * uv - 1) / (a * uv);  // the last shifted inwards
        const double rate = double(a * b) / (a + b) * J / (tiles * a * uv);  // useful multiply-adds per load
        if (rate > best + 1e-9) best = rate, tj = a, ti = b;
    }
    Var jo("jo"), jt("jt"), ji("ji"), io("io"), ii("ii");
    Func g = dg.sum, root = dg.g;
    root.compute_root()
        .split(j_var, jo, ji, tj * uv)
        .split(ji, jt, ji, uv)
        .split(i, io, ii, ti)
        .reorder(ji, jt, ii, jo, io)
        .vectorize(ji)
        .unroll(jt)
        .unroll(ii)
        .parallel(io);
    g.compute_at(root, jo).vectorize(j_var, uv).unroll(j_var).unroll(i);
    g.update().reorder(j_var, i, g.rvars(0)[0]).vectorize(j_var, uv).unroll(j_var).unroll(i);
    // The source copied in tiles of uv x uv (its images innermost): each
    // vector gathers along j, the tile's vectors at one index vector plus n.
    Func in_t = dg.in_t;
    Var no("no"), ni("ni");
    in_t.compute_root()
        .split(j_var, jo, ji, uv)
        .split(n, no, ni, uv, TailStrategy::GuardWithIf)
        .reorder(ji, ni, jo, no)
        .vectorize(ji)
        .unroll(ni);
    done.insert({g.name(), root.name(), in_t.name()});
}

void schedule_dense_layer(const Derivative& adjoint, const forward_pipeline::node_parts& parts, const layer_desc& d,
                          const tensor_shape& source, bool reads_input, const machine& m,
                          const std::map<std::string, Internal::Function>& env, std::set<std::string>& done,
                          const dense_gradient* dg) {
    schedule_dense_forward(parts, d, reads_input, m, done);
    if (dg && env.count(dg->g.name())) schedule_dense_weight_gradient(*dg, d, m, done);
    Func din = adjoint(parts.input);
    if (!env.count(din.name()) || din.num_update_definitions() != 1 || din.rvars(0).size() != 1) return;
    const auto args = din.args();  // (x, y, c, n) or (j, n)
    // Tiles of t inputs x `vectors` vectors of samples: each step
    // broadcasts t weights and loads `vectors` dacc vectors. With one
    // vector, 6 loads per 5 FMAs; LeNet dense1, parts of 64, one thread,
    // AVX2 (Zen 3), interleaved A/B, six runs each: the step 8.73-9.25 ->
    // 8.71-9.07 ms (min), dense1's input gradient 4.7% -> 2.5% of it.
    const int t = divisor_at_most(source.rank == 3 ? source.w() : source.features(), m.accumulators);
    const int vectors = std::clamp(m.accumulators / t, 1, 4);
    Var fo("fo"), fi("fi"), bo("bo"), bi("bi"), bv("bv");
    Func root = din.in();
    if (of_images(root)) images_innermost(root);  // as its readers read it (a pool's gradient)
    std::vector<VarOrRVar> outer{bi, bv, fi, fo};
    for (std::size_t k = 1; k + 1 < args.size(); ++k) outer.emplace_back(args[k]);
    outer.emplace_back(bo);
    root.compute_root()
        .split(args.back(), bo, bi, m.vec * vectors, TailStrategy::RoundUp)
        .split(bi, bv, bi, m.vec)
        .split(args.front(), fo, fi, t)
        .reorder(outer)
        .vectorize(bi)
        .unroll(bv)
        .unroll(fi)
        .parallel(bo);
    std::vector<Var> storage{args.back()};  // samples innermost: the tile's vectors are contiguous registers
    storage.insert(storage.end(), args.begin(), args.end() - 1);
    din.compute_at(root, fo).reorder_storage(storage).vectorize(args.back(), m.vec).unroll(args.back()).unroll(args.front());
    std::vector<VarOrRVar> order{args.back(), args.front(), din.rvars(0)[0]};
    for (std::size_t k = 1; k + 1 < args.size(); ++k) order.emplace_back(args[k]);
    din.update().reorder(order).vectorize(args.back(), m.vec).unroll(args.back()).unroll(args.front());
    done.insert({din.name(), root.name()});
}

// Register tiles of a reduction `acc` computed for a Func of images at
// root: `vectors` vectors of images x tx pixels of a row x tc channels,
// accumulating in registers while `reduction` (innermost first) runs; the
// blocks of images in parallel.
void image_tiles(Func root, Func acc, const std::vector<RVar>& reduction, int vectors, int tx, int tc,
                 const machine& m) {
    Var no("no"), nt("nt"), nto("nto"), nti("nti"), xo("xo"), xi("xi"), co("co"), ci("ci");
    root.compute_root();
    images_innermost(root);
    root.split(n, no, nt, vectors * m.vec, TailStrategy::RoundUp)
        .split(nt, nto, nti, m.vec)
        .split(x, xo, xi, tx)
        .split(c, co, ci, tc)
        .reorder(nti, nto, xi, ci, xo, co, y, no)
        .vectorize(nti)
        .unroll(nto)
        .unroll(xi)
        .unroll(ci)
        .parallel(no);
    acc.compute_at(root, xo);
    images_innermost(acc);
    acc.vectorize(n, m.vec).unroll(n).unroll(x).unroll(c);
    std::vector<VarOrRVar> order{n, x, c};
    order.insert(order.end(), reduction.begin(), reduction.end());
    order.emplace_back(y);
    acc.update().reorder(order).vectorize(n, m.vec).unroll(n).unroll(x).unroll(c);
}

// A pool's input gradient: autodiff scatters each window tap's share,
// dpadded(x * s + kx, y * s + ky, c, n) += share(x, y, c, n), one update per
// tap, each a vector of images. `consumer`, when defined, is the
// elementwise Func that reads it (the gradient through the activation
// before the pool): the pool's gradient is computed per channel and block
// of images inside the consumer's loops (in L1) and never stored whole.
// Otherwise a copy stores it.
void schedule_pool_adjoint(Func dpadded, Func consumer, const machine& m,
                           const std::map<std::string, Internal::Function>& env, std::set<std::string>& done) {
    if (!env.count(dpadded.name()) || !of_images(dpadded)) return;
    const auto args = dpadded.args();
    Func root = consumer.defined() && env.count(consumer.name()) && !done.count(consumer.name()) &&
                        !consumer.has_update_definition() && of_images(consumer)
                    ? consumer
                    : dpadded.in();
    images_at_root(root, m);
    dpadded.compute_at(root, root.args()[2]);
    images_innermost(dpadded);
    dpadded.vectorize(args[3], m.vec);
    for (int u = 0; u < dpadded.num_update_definitions(); ++u) {
        const auto r = dpadded.rvars(u);
        if (r.size() != 2) continue;
        dpadded.update(u).reorder(args[3], r[0], r[1], args[2]).vectorize(args[3], m.vec);
    }
    done.insert({dpadded.name(), root.name()});
}

// A conv's weight gradient, dw(kx, ky, ci, co) = sum over images and output
// pixels of dacc(x, y, co, n) * padded(x * s + kx - pad, y * s + ky - pad,
// ci, n), with the images in the lanes: lane u of a vector sums the images
// V * b + u. Register tiles of a few output channels x all kx, one vector
// each, accumulate over the pixels and a block of images (the blocks in
// parallel); each step loads one dacc vector per channel and one input
// vector per kx (aligned, no broadcasts). Then the lanes and blocks are
// summed. Autodiff's dw (a reduction over images in their own order) is
// replaced by this one in its readers.
// A weight gradient's blocks of up to 4 vectors of images, the blocks in
// parallel (a run-time count: with a constant 4, LLVM unrolled the
// innermost loop over them, hoisted all its loads and spilled the tile,
// LeNet conv2's gradient 4.2 ms; up to 8 left a part of 128 images,
// model::set_train_part, two threads, one block: one thread idle).
struct image_blocks {
    Expr vectors;  // per block
    Expr count;
};
constexpr int max_block_vectors = 4;
image_blocks weight_gradient_blocks(Expr batch, const machine& m) {
    const Expr vectors = (batch + m.vec - 1) / m.vec;
    const Expr per_block = min(vectors, max_block_vectors);
    return {per_block, (vectors + per_block - 1) / per_block};
}

void conv_weight_gradient(Func dw, Func dacc, bool dacc_inline, Func padded, const layer_desc& d, const machine& m,
                          Expr batch, const std::map<std::string, Internal::Function>& env, std::set<std::string>& done) {
    const int V = m.vec;
    const auto [block_vectors, blocks] = weight_gradient_blocks(batch, m);
    const auto a = dw.args();  // kx, ky, ci, co
    Var u("u"), nb("nb");
    RDom r(0, d.out.w(), 0, d.out.h(), 0, block_vectors, dw.name() + "_images_r");
    const Expr image = (nb * block_vectors + r.z) * V + u;
    const Expr kx = d.flip ? d.kw - 1 - a[0] : Expr(a[0]);  // a true convolution reads its kernel flipped
    const Expr ky = d.flip ? d.kh - 1 - a[1] : Expr(a[1]);
    Func lanes(dw.name() + "_lanes");  // (kx, ky, ci, co, u, nb)
    lanes(a[0], a[1], a[2], a[3], u, nb) = 0.0f;
    lanes(a[0], a[1], a[2], a[3], u, nb) +=
        dacc(r.x, r.y, a[3], image) * padded(r.x * d.sw + kx - d.pad_left, r.y * d.sh + ky - d.pad_top, a[2], image);
    Func sum(dw.name() + "_images");
    RDom all(0, V, 0, blocks, dw.name() + "_lanes_r");
    sum(a) = 0.0f;
    sum(a) += lanes(a[0], a[1], a[2], a[3], all.x, all.y);
    replace_calls(env, dw, sum);

    // Register tiles of tc channels x all kx (kx in a loop when the kernel
    // is wider than the registers), accumulating along a row of the block's
    // images (the images innermost: contiguous vectors); the tiles of all
    // channels and ky run inside the loop over rows (ky inside the channel
    // groups), so a group's row of dacc and the kh input rows it meets stay
    // in cache while they are reused (one input channel at a time).
    // Sweeping all rows and images per tile streamed them from memory:
    // each step loads 8-9 vectors for 15-20 FMAs. LeNet, batch 256, one
    // thread (Halide's profiler): conv1's gradient 2.1 -> 0.9-1.1 ms,
    // conv2's 4.2 -> 1.5-1.8.
    const bool taps_in_tile = d.kw <= m.accumulators / 2;
    const int tc = divisor_at_most(d.out.c(), std::max(1, m.accumulators / (taps_in_tile ? d.kw : 1)));
    Var co_o("co_o"), co_i("co_i");
    lanes.compute_root().reorder_storage(u, a[3], a[0], a[1], a[2], nb).vectorize(u).parallel(nb);
    Stage update = lanes.update();
    update.split(a[3], co_o, co_i, tc)
        .reorder(u, co_i, a[0], r.z, r.x, a[1], co_o, r.y, a[2], nb)
        .vectorize(u)
        .unroll(co_i)
        .parallel(nb);
    if (taps_in_tile) update.unroll(a[0]);
    if (dacc_inline) {
        // Computed where the tiles read it: a row of the block's images at a
        // time when one input channel runs over the rows, else the whole
        // block (once, not once per input channel: LeNet conv2 per row 1.0
        // ms, per block 0.2).
        images_copy(dacc, lanes, d.in.c() == 1 ? LoopLevel(lanes, r.y) : LoopLevel(lanes, nb), V, done);
    }
    // The block's padded input copied once per block into a buffer of the
    // largest block (a constant extent, zeros past the batch) when it
    // fits L2: its strides become constants, the taps' loads immediate
    // offsets. With the batch's run-time stride, LLVM computed the kw
    // addresses in vector registers each step (vpaddq, vpextrq next to
    // the FMAs). LeNet's step as above: 10.4 / 10.2 / 10.4 -> 9.6 / 9.7 /
    // 9.7 ms (conv1's weight gradient 15% -> 10% of it).
    const int plane = (d.in.w() + d.pad_left + d.pad_right) * (d.in.h() + d.pad_top + d.pad_bottom) * d.in.c();
    if (plane * max_block_vectors * V * long(sizeof(float)) <= l2_budget) {
        Func block = images_copy(padded, lanes, LoopLevel(lanes, nb), V, done);
        block.bound_extent(block.args()[3], max_block_vectors * V);
    }
    sum.compute_root();
    done.insert({lanes.name(), sum.name(), dw.name()});
}

// A conv's bias gradient, db(co) = sum over images and pixels of dacc, the
// images in the lanes, then the lanes summed.
void conv_bias_gradient(Func db, Func dacc, const layer_desc& d, const machine& m, Expr batch,
                        const std::map<std::string, Internal::Function>& env, std::set<std::string>& done) {
    const int V = m.vec;
    Var u("u");
    RDom r(0, d.out.w(), 0, d.out.h(), 0, (batch + V - 1) / V, db.name() + "_images_r");
    Func lanes(db.name() + "_lanes");
    lanes(c, u) = 0.0f;
    lanes(c, u) += dacc(r.x, r.y, c, r.z * V + u);
    Func sum(db.name() + "_images");
    RDom all(0, V, db.name() + "_lanes_r");
    sum(c) = 0.0f;
    sum(c) += lanes(c, all);
    replace_calls(env, db, sum);
    lanes.compute_root().reorder_storage(u, c).vectorize(u);
    lanes.update().reorder(u, r.z, r.x, r.y, c).vectorize(u).parallel(c);
    sum.compute_root();
    done.insert({lanes.name(), sum.name(), db.name()});
}

// A stride-1 cross-correlation's input gradient, dpadded(x, y, ci, n) = sum
// over (co, kx, ky) of dacc(x - kx + pad, y - ky + pad, co, n) * w(kx, ky,
// ci, co) where the output pixel exists: the RDom's predicate restricts
// the kx and ky loops per pixel (autodiff's form correlated over a
// zero-bordered dacc, twice the useful work for LeNet's conv2). Register
// tiles of a few input channels x two vectors of images at each pixel;
// each step loads two dacc vectors and broadcasts one weight per channel.
// Replaces autodiff's in its readers.
void conv_input_gradient(Func dpadded, Func dacc, bool dacc_inline, Func w, const layer_desc& d, const machine& m,
                         const std::map<std::string, Internal::Function>& env, std::set<std::string>& done) {
    Func dx(dpadded.name() + "_images");
    RDom r(0, d.kw, 0, d.kh, 0, d.out.c(), dx.name() + "_r");
    const Expr ox = x - r.x + d.pad_left, oy = y - r.y + d.pad_top;
    r.where(ox >= 0 && ox < d.out.w() && oy >= 0 && oy < d.out.h());
    dx(x, y, c, n) = 0.0f;
    // Clamped (a no-op where the predicate holds): bounds inference does
    // not read predicates, and would compute dacc, and everything before
    // it, on a kw - 1 wider border.
    dx(x, y, c, n) += dacc(clamp(ox, 0, d.out.w() - 1), clamp(oy, 0, d.out.h() - 1), r.z, n) * w(r.x, r.y, c, r.z);
    replace_calls(env, dpadded, dx);

    // Up to 4 vectors of images: each step loads that many dacc vectors and
    // broadcasts tc weights for vectors x tc FMAs.
    const int vectors = std::clamp(m.accumulators / d.in.c(), 1, 4);
    Func root = dx.in();
    image_tiles(root, dx, {r.z, r.x, r.y}, vectors, 1, std::min(d.in.c(), m.accumulators / vectors), m);
    if (dacc_inline) images_copy(dacc, dx, LoopLevel(root, Var("no")), m.vec, done);  // per block of images
    done.insert({dx.name(), root.name(), dpadded.name()});
}

// A conv's forward tile, tx pixels x tc output channels (one vector of
// images each), doing the most useful FMAs per cycle within the registers:
// the tile, its input vectors (tx, and kw - 1 more with the taps unrolled)
// and a broadcast weight fit the register file (accumulators + 8). LeNet
// conv2's 2 x 10 tile with 14 live inputs spilled; 4 x 5 does not.
struct pixel_tile {
    int tx, tc;
};
pixel_tile forward_tile(const layer_desc& d, bool unroll_taps, const machine& m) {
    const int registers = m.accumulators + 8;
    pixel_tile best_tile{1, 1};
    double best = 0;
    for (int tc = 1; tc <= std::min(d.out.c(), m.accumulators); ++tc)
        for (int tx = 1; tx * tc <= m.accumulators && tx <= d.out.w(); ++tx) {
            if (tx * tc + tx + (unroll_taps ? d.kw - 1 : 0) + 1 > registers) break;
            const double useful = tx * tc * shifted_tiles_useful(d.out.w(), tx) * shifted_tiles_useful(d.out.c(), tc);
            const double rate = tile_rate(useful, tx * tc, tx + tc, 1.0);
            if (rate > best + 1e-9) best = rate, best_tile = {tx, tc};
        }
    return best_tile;
}

// The transformed input rows of Winograd F(., .) along rows with w.n
// points: v(e, t, yy, ci, n), the segment of w.n pixels of row yy from
// pixel 2t (in the unpadded input's coordinates as the conv reads it).
Func winograd_input_rows(const winograd_matrices& w, Func padded, const layer_desc& d, const std::string& name) {
    Var e("e"), t("t"), yy("yy"), ci("ci");
    Func v(name);
    v(e, t, yy, ci, n) = transform(e, w.bt, [&](std::size_t j) {
        return padded(2 * t + int(j) - d.pad_left, yy - d.pad_top, ci, n);
    });
    return v;
}

// The weights transformed for Winograd F(2, kw) along the rows: u(e, ky,
// ci, co), row e of G times the kernel row's taps.
Func winograd_weights(const winograd_matrices& w, Func weight, const std::string& name) {
    Var e("e"), ky("ky"), ci("ci"), co("co");
    Func u(name);
    u(e, ky, ci, co) = transform(e, w.g, [&](std::size_t kx) { return weight(int(kx), ky, ci, co); });
    return u;
}

// A Func of images computed at root by pairs of pixels of a row (a
// Winograd tile; x % 2 known in each when the width is even, a last pair
// shifted inwards otherwise), vectors of images innermost, the blocks of
// images in parallel: loops (ni, xi, xo, c, y, no).
void pairs_at_root(Func f, const machine& m) {
    Var no("no"), ni("ni"), xo("xo"), xi("xi");
    f.compute_root();
    images_innermost(f);
    f.split(n, no, ni, m.vec, TailStrategy::RoundUp)
        .split(x, xo, xi, 2)
        .reorder(ni, xi, xo, c, y, no)
        .vectorize(ni)
        .unroll(xi)
        .parallel(no);
}

// A stride-1 conv's forward in a train step as Winograd F(2, kw) along its
// rows: per pair of output pixels and output channel, kw + 1 multiply-adds
// per input row and channel instead of 2 * kw (LeNet conv2: 180 for 300).
// The input rows' transforms (BT) are computed once per block of images,
// the weights' (G) once per call; the products of a row accumulate over
// the kh rows and input channels in register tiles (below), and the
// outputs' transform (AT, plus the bias) goes straight to the activation.
// For convs with many multiply-adds per input row (channels x kh >= 16): a one-channel
// conv spends as much on the transforms as it saves. LeNet, parts of 64,
// one thread, interleaved with the direct tiles: the step 7.24 / 7.08 /
// 6.98 -> 6.70 / 6.73 / 6.60 ms (min; medians 7.6 / 7.5 / 7.5 -> 7.2 / 7.1
// / 6.8). Gradients within 3e-6 of PyTorch's (tests/gradients).
bool winograd_rows(const layer_desc& d) {
    return d.kind == op::conv2d && d.sw == 1 && d.sh == 1 && !d.flip && d.kw >= 3 && d.kw <= 7 && d.out.w() % 2 == 0 &&
           d.in.c() * d.kh >= 16;
}

void winograd_forward(Func activation, const forward_pipeline::node_parts& parts, const layer_desc& d,
                      const machine& m, const std::map<std::string, Internal::Function>& env,
                      std::set<std::string>& done) {
    const winograd_matrices w = winograd(2, d.kw);
    const std::string name = parts.acc.name() + "_winograd";
    Var e("e"), t("t"), co("co");
    Func v = winograd_input_rows(w, parts.padded, d, name + "_in");
    Func u = winograd_weights(w, parts.weight, name + "_weights"), prod(name + "_products"), out(name);
    RDom r(0, d.kh, 0, d.in.c(), name + "_r");
    prod(e, t, y, co, n) = 0.0f;
    prod(e, t, y, co, n) += u(e, r.x, r.y, co) * v(e, t, y + r.x, r.y, n);
    out(x, y, c, n) = (parts.bias.defined() ? parts.bias(c) : Expr(0.0f)) +
                      transform(x % 2, w.at, [&](std::size_t k) { return prod(int(k), x / 2, y, c, n); });
    replace_calls(env, parts.acc, out);

    // The products of a row (one vector of images) into an L1 buffer, in
    // register tiles of all the row's pairs (or as many as fit) x tco
    // channels for one point e: each step loads a transformed input vector
    // per pair and broadcasts a weight per channel. Then the activation,
    // its outputs' transform (AT) reading the buffer. With the six points'
    // products of a pair x 2 channels in the registers (to transform them
    // there), each FMA needed its own broadcast weight: on AVX2, without
    // embedded broadcasts, 18 loads per 12 FMAs. LeNet conv2, parts of
    // 64, one thread, AVX2 (Zen 3), interleaved A/B: the step 9.86 / 9.92 /
    // 9.85 -> 9.50 / 9.50 / 9.33 ms; conv2's forward 16.3% -> 12.6% of it.
    const int pairs = d.out.w() / 2;
    const int tt = std::min(pairs, std::max(1, m.accumulators / 2));
    const int tco = divisor_at_most(d.out.c(), std::max(1, m.accumulators / tt));
    Var no("no"), to("to"), ti("ti"), cc("co_o"), cin("co_i");
    pairs_at_root(activation, m);
    out.compute_inline();
    Func row = prod.in();
    row.compute_at(activation, y).reorder_storage(n, t, co, e, y);
    row.split(t, to, ti, tt, TailStrategy::ShiftInwards)
        .split(co, cc, cin, tco)
        .reorder(n, ti, cin, to, cc, e, y)
        .vectorize(n, m.vec)
        .unroll(ti)
        .unroll(cin);
    prod.compute_at(row, to).reorder_storage(n, t, co, e, y);
    prod.vectorize(n, m.vec).unroll(t).unroll(co);
    prod.update().reorder(n, t, co, r.x, r.y, e, y).vectorize(n, m.vec).unroll(t).unroll(co);
    const auto va = v.args();  // e, t, yy, ci, n
    v.compute_at(activation, no).reorder_storage(va[4], va[0], va[1], va[2], va[3]).vectorize(va[4], m.vec).unroll(va[0]);
    u.compute_root().unroll(e);
    done.insert({parts.acc.name(), activation.name(), out.name(), prod.name(), row.name(), v.name(), u.name()});
}

// The weight gradient of a conv that winograd_rows takes, as Winograd
// F(kw, 2) along the rows: for each pair of output pixels (2t, 2t + 1),
// the kw taps' sums dacc(2t) in(2t + kx) + dacc(2t + 1) in(2t + 1 + kx)
// are a 2-tap correlation of the input row with the pair, so with the same
// n = kw + 1 points (the input rows' transform is the forward's)
// dw(kx, ..) = sum over e of AT[kx][e] p(e, ..), and p(e, ky, ci, co) sums
// g(e, t, y, co) v(e, t, y + ky, ci) over pixels and images: kw + 1
// multiply-adds per pair where the direct form does 2 kw. As
// conv_weight_gradient: the images in the lanes, blocks of up to 4 vectors
// of images in parallel, the lanes and blocks summed at the end. Per vector
// of images, the transformed rows of its input and output gradient are
// computed once (in L2), and register tiles of input x output channels
// accumulate over the pixels for each e and ky (6 x 4 for LeNet conv2;
// 3 x 8 was no faster). LeNet, parts of 64, one thread, interleaved with
// the direct form: the step 7.10 / 7.18 / 7.04 -> 6.64 / 6.81 / 6.87 ms
// (min); conv2's weight gradient 16.5% -> 13.0% of the step (perf).
void winograd_weight_gradient(Func dw, Func dacc, bool dacc_inline, Func padded, const layer_desc& d, const machine& m,
                              Expr batch, const std::map<std::string, Internal::Function>& env,
                              std::set<std::string>& done) {
    const winograd_matrices w = winograd(d.kw, 2);
    const int V = m.vec;
    const auto [block_vectors, blocks] = weight_gradient_blocks(batch, m);
    const std::string name = dw.name() + "_winograd";
    const auto a = dw.args();  // kx, ky, ci, co
    Var u("u"), nb("nb"), e("e"), t("t");
    Func v = winograd_input_rows(w, padded, d, name + "_in");
    Func g(name + "_out"), lanes(name + "_lanes"), sum(name + "_sum"), out(name);
    g(e, t, y, c, n) = transform(e, w.g, [&](std::size_t p) { return dacc(2 * t + int(p), y, c, n); });
    RDom r(0, d.out.w() / 2, 0, d.out.h(), 0, block_vectors, name + "_r");
    const Expr image = (nb * block_vectors + r.z) * V + u;
    lanes(e, a[1], a[2], a[3], u, nb) = 0.0f;
    lanes(e, a[1], a[2], a[3], u, nb) += g(e, r.x, r.y, a[3], image) * v(e, r.x, r.y + a[1], a[2], image);
    RDom all(0, V, 0, blocks, name + "_lanes_r");
    sum(e, a[1], a[2], a[3]) = 0.0f;
    sum(e, a[1], a[2], a[3]) += lanes(e, a[1], a[2], a[3], all.x, all.y);
    out(a) = transform(a[0], w.at, [&](std::size_t k) { return sum(int(k), a[1], a[2], a[3]); });
    replace_calls(env, dw, out);

    const int tci = divisor_at_most(d.in.c(), 8);
    const int tco = divisor_at_most(d.out.c(), std::max(1, m.accumulators / tci));
    Var ci_o("ci_o"), ci_i("ci_i"), co_o("co_o"), co_i("co_i");
    lanes.bound(e, 0, w.n).bound(a[1], 0, d.kh).bound(a[2], 0, d.in.c()).bound(a[3], 0, d.out.c());
    lanes.compute_root().reorder_storage(u, a[3], a[2], e, a[1], nb).vectorize(u).parallel(nb);
    Stage update = lanes.update();
    update.split(a[2], ci_o, ci_i, tci)
        .split(a[3], co_o, co_i, tco)
        .reorder(u, ci_i, co_i, r.x, r.y, ci_o, co_o, e, a[1], r.z, nb)
        .vectorize(u)
        .unroll(ci_i)
        .unroll(co_i)
        .parallel(nb);
    // v and g stored point-major (a point's rows contiguous, as the tiles
    // read them for one e): point-minor, each cache line held two points
    // and the tiles of one point used half of it. LeNet's step, parts of
    // 64, one thread, AVX2 (Zen 3), interleaved A/B, six runs each:
    // 8.85-9.05 -> 8.72-9.04 ms (min; medians 8.94 -> 8.76), conv2's weight
    // gradient 15.8% -> 14.2% of it.
    for (Func f : {v, g}) {
        const auto fa = f.args();  // e, t, row, channel, n
        f.compute_at(lanes, r.z).reorder_storage(fa[4], fa[1], fa[2], fa[3], fa[0]).vectorize(fa[4], V).unroll(fa[0]);
    }
    if (dacc_inline) images_copy(dacc, g, LoopLevel(lanes, r.z), V, done);  // per vector of images, once
    sum.compute_root();
    done.insert({v.name(), g.name(), lanes.name(), sum.name(), out.name(), dw.name()});
}

// The input gradient of a conv that winograd_rows takes (without padding),
// as the adjoint of its Winograd F(2, kw) forward: with the forward's
// products M_e = sum over ky, ci of U_e V_e (winograd_forward), the output
// gradient's pairs give dM_e = sum over j of AT[j][e] dY(2t + j), then
// dV_e(t, yy, ci) = sum over ky, co of U_e(ky, ci, co) dM_e(t, yy - ky, co)
// (the rows that exist), and each input pixel x gathers BT[e][k] dV_e(t)
// over the pairs t and taps k with 2t + k = x. kw + 1 multiply-adds per
// pair, row and channel pair instead of 2 kw (LeNet conv2: 144 K per image
// for 240 K); the transforms add ~15%. The products of a row: register
// tiles of all its pairs x a few input channels for one point e, each step
// loading a dM vector per pair and broadcasting a weight per channel (taken
// when a row's pairs fit half the accumulators; wider rows use the direct
// form, conv_input_gradient). The
// activation's rule, when inline, is read where dM reads it (its six
// unrolled points share the two reads; a copy per block of images cost
// more). LeNet, parts of 64, one thread, against the direct form
// (conv_input_gradient; constnet_bench --filter train, 6 rounds
// alternating): the step 6.06 / 6.20 -> 5.75 / 5.82 ms (min / median).
// (An earlier Winograd input gradient correlated the zero-bordered output
// gradient, twice the useful work, and lost.)
void winograd_input_gradient(Func dpadded, Func dacc, Func weight, const layer_desc& d,
                             const machine& m, const std::map<std::string, Internal::Function>& env,
                             std::set<std::string>& done) {
    const winograd_matrices w = winograd(2, d.kw);
    const std::string name = dpadded.name() + "_winograd";
    const int pairs = d.out.w() / 2, H = d.out.h();
    Var e("e"), t("t"), yy("yy"), ci("ci"), co("co"), k("k");
    Func u = winograd_weights(w, weight, name + "_weights");
    Func dm(name + "_dm"), dv(name + "_dv"), dz(name + "_dz"), dx(dpadded.name() + "_images");
    dm(e, t, y, co, n) = transform(e, transposed(w.at), [&](std::size_t j) { return dacc(2 * t + int(j), y, co, n); });
    RDom r(0, d.kh, 0, d.out.c(), name + "_r");
    const Expr oy = yy - r.x;
    r.where(oy >= 0 && oy < H);
    dv(e, t, yy, ci, n) = 0.0f;
    dv(e, t, yy, ci, n) += u(e, r.x, ci, r.y) * dm(e, t, clamp(oy, 0, H - 1), r.y, n);
    dz(k, t, yy, ci, n) = transform(k, transposed(w.bt), [&](std::size_t j) { return dv(int(j), t, yy, ci, n); });
    Expr sum = 0.0f;
    for (int q = 0; 2 * q < w.n; ++q) {
        const Expr tap = x % 2 + 2 * q, pair = x / 2 - q;
        sum += select(pair >= 0 && pair < pairs && tap < w.n, dz(min(tap, w.n - 1), clamp(pair, 0, pairs - 1), y, c, n),
                      0.0f);
    }
    dx(x, y, c, n) = sum;
    replace_calls(env, dpadded, dx);

    const int tc = divisor_at_most(d.in.c(), std::max(1, m.accumulators / pairs));
    Var no("no"), cio("cio"), cii("cii");
    Func root = dx.in();
    pairs_at_root(root, m);
    dx.compute_inline();
    dz.compute_at(root, y).reorder_storage(n, k, t, yy, ci).vectorize(n, m.vec).unroll(k);
    dv.compute_at(root, y).reorder_storage(n, t, e, yy, ci).vectorize(n, m.vec);
    dv.update()
        .split(ci, cio, cii, tc)
        .reorder(n, t, cii, r.y, r.x, e, cio, yy)
        .vectorize(n, m.vec)
        .unroll(t)
        .unroll(cii);
    dm.compute_at(root, no).reorder_storage(n, t, e, y, co).vectorize(n, m.vec).unroll(e);
    u.compute_root().unroll(e);
    done.insert({dx.name(), root.name(), dpadded.name(), dz.name(), dv.name(), dm.name(), u.name()});
}

// A conv2d in a train step. Its forward reduction in register tiles of a
// few pixels of a row x a few output channels, one vector of images each;
// each reduction step broadcasts one weight per channel and loads one
// input vector per pixel. `activation`, when defined (the activation
// after the conv, whose gradient rule reads it), is applied in the tiles
// and stored instead of the conv's output. Its gradients: see above.
void schedule_conv_forward(const forward_pipeline::node_parts& parts, Func activation, const layer_desc& d,
                           const machine& m, const std::map<std::string, Internal::Function>& env,
                           std::set<std::string>& done) {
    Func acc = parts.acc;
    if (activation.defined() && winograd_rows(d)) {
        winograd_forward(activation, parts, d, m, env, done);
    } else {
        Func fwd = activation.defined() ? activation : acc.in();
        const bool unroll_taps = d.kw <= 5;
        const auto [tx, tc] = forward_tile(d, unroll_taps, m);
        image_tiles(fwd, acc, acc.rvars(), 1, tx, tc, m);
        // The row's taps unrolled: constant offsets, input vectors shared by the tile's pixels.
        if (unroll_taps) acc.update().unroll(acc.rvars()[0]);
        // The block's padded input copied into a buffer of its own (one
        // vector of images: constant strides, the taps' loads immediate
        // offsets; from the root copy, whose x stride is the batch's,
        // LLVM computed the kw addresses in vector registers each step).
        // LeNet's step, parts of 64, one thread, AVX2 (Zen 3), interleaved
        // A/B: 10.6 / 10.7 / 10.3 -> 10.3 / 10.0 / 10.1 ms.
        images_copy(parts.padded, acc, LoopLevel(fwd, Var("no")), m.vec, done);
        done.insert({acc.name(), fwd.name()});
    }
}

void schedule_conv_layer(const Derivative& adjoint, const forward_pipeline::node_parts& parts, Func activation,
                         Func inline_rule, const layer_desc& d, const machine& m, Expr batch,
                         const std::map<std::string, Internal::Function>& env, std::set<std::string>& done) {
    schedule_conv_forward(parts, activation, d, m, env, done);
    Func acc = parts.acc;
    Func dacc = adjoint(acc, acc.num_update_definitions() - 1);
    // The activation's gradient rule, when it reads nothing but stored
    // values (see schedule_layers), is not stored: each gradient computes
    // it where it reads it (the bias gradient inline).
    const bool dacc_inline = inline_rule.defined() && env.count(inline_rule.name());
    if (dacc_inline) {
        inline_rule.compute_inline();
        done.insert(inline_rule.name());
    }
    if (Func db = parts.bias.defined() ? adjoint(parts.bias) : Func(); db.defined() && env.count(db.name()))
        conv_bias_gradient(db, dacc, d, m, batch, env, done);
    if (Func dw = adjoint(parts.weight); env.count(dw.name())) {
        if (winograd_rows(d)) winograd_weight_gradient(dw, dacc, dacc_inline, parts.padded, d, m, batch, env, done);
        else conv_weight_gradient(dw, dacc, dacc_inline, parts.padded, d, m, batch, env, done);
    }
    if (Func dpadded = adjoint(parts.padded); env.count(dpadded.name()) && d.sw == 1 && d.sh == 1 && !d.flip) {
        if (winograd_rows(d) && !d.has_padding() && d.out.w() / 2 <= m.accumulators / 2)
            winograd_input_gradient(dpadded, dacc, parts.weight, d, m, env, done);
        else
            conv_input_gradient(dpadded, dacc, dacc_inline, parts.weight, d, m, env, done);
    }
}

// Average pools whose windows tile their input (stride = window, no
// padding): the input gradient in gather form, each element its window's
// output gradient over the window's size, computed where it is read
// (autodiff's form scatters each tap: one pass per tap). A ruled activation
// before such a pool then has a rule that reads only stored values (the
// activation, the pool's output gradient): not stored either. Returns the
// pools so treated and those activations (node indices).
struct gathered_pools {
    std::set<std::size_t> pools, inline_rules;
};
gathered_pools gather_pool_gradients(const backward& b, std::span<const layer_desc> nodes,
                                     const std::map<std::string, Internal::Function>& env, std::set<std::string>& done) {
    const Derivative& adjoint = *b.adjoints;
    gathered_pools g;
    for (std::size_t idx = 1; idx < nodes.size(); ++idx) {
        const layer_desc& d = nodes[idx];
        if (d.kind != op::avg_pool || d.sw != d.kw || d.sh != d.kh || d.has_padding()) continue;
        Func dpadded = adjoint(b.forward.parts[idx].padded);
        if (!env.count(dpadded.name()) || !of_images(dpadded)) continue;
        Func dout = adjoint(b.forward.nodes[idx]);
        Func gather(dpadded.name() + "_gather");
        gather(x, y, c, n) = select(x < d.out.w() * d.sw && y < d.out.h() * d.sh, dout(x / d.sw, y / d.sh, c, n), 0.0f) /
                             float(d.kw * d.kh);
        replace_calls(env, dpadded, gather);
        gather.compute_inline();
        done.insert({gather.name(), dpadded.name()});
        g.pools.insert(idx);
        const int a = d.inputs[0];
        if (is_activation(nodes[a].kind) && readers(nodes, a) == 1 && b.activation_grads.count(a)) g.inline_rules.insert(a);
    }
    return g;
}

// The stages of known forms get schedules of their own; returns the Funcs
// scheduled (schedule_generic takes the rest).
//
// Measured (LeNet, batch 256, one thread, Halide's profiler; the generic
// schedule before): conv2 weight gradient 10.8 -> 1.9 ms, conv1's 4.6 -> 2.0,
// conv2 input gradient 6.4 -> 3.3 (it computes the full correlation over the
// padded input: twice the useful multiply-adds at LeNet's sizes), dense1
// forward 3.5 -> 0.5, dense1 input gradient 1.9 -> 0.6, pool1 input
// gradient 1.6 -> 0.7-0.9; the whole step 43.8 -> 17-18 ms
// (bench/run_suite.py, PyTorch 45-51 ms in the same runs). Images in the
// lanes (this Sapphire Rapids, profiler): conv2 forward 2.9 -> 0.9-1.2 ms,
// its input gradient 4.1 -> 0.9-1.2; with the gather-form pool gradients
// and rules computed where read, the step 17.6-20.9 -> 8.7-9.4 ms; an
// epoch (bench/lenet_epoch.py --rounds 5) 2.1x -> 3.5x PyTorch's speed on
// one thread, 3.2x -> 5.0x on two.
std::set<std::string> schedule_layers(const backward& b, std::span<const layer_desc> nodes,
                                      const std::vector<Func>& outputs, const Target& target) {
    std::set<std::string> done;
    const machine m = machine_for(target);
    const Derivative& adjoint = *b.adjoints;
    const auto env = reachable(outputs);
    const Expr batch = batch_extent(b.forward);
    // The input as the first layer reads it (0 outside the batch) is
    // computed where it is read, in vectors of images.
    if (Func in = b.forward.nodes[0]; in.name() != b.forward.input.name() && env.count(in.name())) {
        in.compute_inline();
        done.insert(in.name());
    }
    const auto [gathered, inline_rules] = gather_pool_gradients(b, nodes, env, done);
    for (std::size_t idx = 1; idx < nodes.size(); ++idx) {
        const layer_desc& d = nodes[idx];
        const auto& parts = b.forward.parts[idx];
        if (d.kind == op::dense) {
            // A flattened input is read as its C x H x W source.
            const auto dg = b.dense_grads.find(idx);
            schedule_dense_layer(adjoint, parts, d, dense_source(nodes, d), reads_network_input(nodes, d), m, env, done,
                                 dg == b.dense_grads.end() ? nullptr : &dg->second);
            continue;
        }
        if (is_pool(d.kind)) {
            const int a = d.inputs[0];
            const bool activation_before = is_activation(nodes[a].kind) && readers(nodes, a) == 1;
            const auto rule = b.activation_grads.find(a);
            const bool has_rule = rule != b.activation_grads.end();
            if (!gathered.count(idx))
                schedule_pool_adjoint(adjoint(parts.padded),
                                      !activation_before ? Func()
                                      : has_rule         ? rule->second
                                                         : adjoint(b.forward.nodes[nodes[a].inputs[0]]),
                                      m, env, done);
            // An activation read only by a pool whose windows do not overlap
            // is computed in the pool's loop (each value once), not stored,
            // unless its gradient rule reads it.
            if (activation_before && !has_rule && d.sw >= d.kw && d.sh >= d.kh) {
                Func activation = b.forward.nodes[a];
                activation.compute_inline();
                done.insert(activation.name());
            }
            continue;
        }
        if (d.kind == op::conv2d) {
            // An activation with a gradient rule, the conv's only reader, is
            // stored: computed in the conv's register tiles.
            Func activation, inline_rule;
            if (readers(nodes, static_cast<int>(idx)) == 1)
                for (const auto& [a, rule] : b.activation_grads)
                    if (nodes[a].inputs[0] == static_cast<int>(idx)) {
                        activation = b.forward.nodes[a];
                        if (inline_rules.count(a)) inline_rule = rule;
                    }
            schedule_conv_layer(adjoint, parts, activation, inline_rule, d, m, batch, env, done);
        }
    }
    return done;
}

// The forward pass alone with the train step's forward schedules (images
// in the vector lanes, see schedule_layers): for a batch of small images,
// whose every tensor for a vector of images stays in cache. A conv's only
// reader, when an activation, is computed in the conv's register tiles.
void schedule_forward_layers(const forward_pipeline& f, std::span<const layer_desc> nodes, const Target& target) {
    std::set<std::string> done;
    const machine m = machine_for(target);
    const std::vector<Func> outputs{f.output};
    const auto env = reachable(outputs);
    if (Func in = f.nodes[0]; in.name() != f.input.name() && env.count(in.name())) {
        in.compute_inline();
        done.insert(in.name());
    }
    for (std::size_t idx = 1; idx < nodes.size(); ++idx) {
        const layer_desc& d = nodes[idx];
        if (d.kind == op::dense) schedule_dense_forward(f.parts[idx], d, reads_network_input(nodes, d), m, done);
        if (d.kind != op::conv2d) continue;
        Func activation;
        if (readers(nodes, static_cast<int>(idx)) == 1)
            for (std::size_t a = idx + 1; a < nodes.size(); ++a)
                if (is_activation(nodes[a].kind) && nodes[a].inputs[0] == static_cast<int>(idx) &&
                    f.nodes[a].name() != f.output.name())
                    activation = f.nodes[a];
        schedule_conv_forward(f.parts[idx], activation, d, m, env, done);
    }
    schedule_generic(outputs, target, done);
}

// constnet's schedules, or (for comparison) Li2018, Halide's gradient
// autoscheduler, given estimates for every input and output. Unscheduled,
// the autodiff Funcs are unusably slow.
void autoschedule(const backward& b, std::span<const layer_desc> nodes, loss_kind kind,
                  const std::vector<ImageParam>& extra_params, const std::vector<std::vector<int>>& extra_extents,
                  const std::vector<Func>& outputs, const lower_options& opt) {
    const auto& f = b.forward;
    const auto& in = nodes[0].out;
    estimate(f.input, in.rank == 3 ? std::vector<int>{in.w(), in.h(), in.c()} : std::vector<int>{in.features()});
    for (std::size_t k = 0; k < f.params.size(); ++k) estimate(f.params[k], f.param_extents[k]);
    for (std::size_t k = 0; k < extra_params.size(); ++k) estimate(extra_params[k], extra_extents[k]);
    estimate(b.target, kind == loss_kind::cross_entropy ? std::vector<int>{} : f.output_extents);
    // The outputs with dimensions are per-parameter (grads, or params', m', v'), in parameter order.
    std::size_t k = 0;
    for (Func o : outputs) {
        if (o.dimensions() == 0) continue;
        Region r;
        for (int e : f.param_extents[k++ % f.params.size()]) r.push_back({0, e});
        o.set_estimates(r);
    }
    if (!opt.autoscheduler.empty()) {
        load_autoscheduler(opt.autoscheduler);
        // Parallelism 1: with more, Li2018 (Halide 14) vectorizes atomic
        // reductions behind GuardWithIf tails, which Halide then refuses to
        // compile ("Atomic predicated store is not supported").
        Pipeline(outputs).auto_schedule(opt.autoscheduler, opt.target, MachineParams(1, 16 * 1024 * 1024, 40));
    } else {
        schedule_generic(outputs, opt.target, schedule_layers(b, nodes, outputs, opt.target));
    }
}

}  // namespace

std::vector<Argument> gradient_pipeline::arguments() const {
    std::vector<Argument> args = forward.arguments();
    args.emplace_back(target);
    return args;
}

gradient_pipeline lower_gradients(std::span<const layer_desc> nodes, loss_kind loss, const lower_options& opt) {
    backward b = define_backward(nodes, loss, opt);
    gradient_pipeline g;
    g.forward = b.forward;
    g.target = b.target;
    for (std::size_t k = 0; k < b.grads.size(); ++k) {
        Func out(b.forward.params[k].name() + "_grad");
        out(b.grads[k].args()) = b.grads[k](b.grads[k].args());
        constrain(out.output_buffer(), b.forward.param_extents[k]);
        g.outputs.push_back(out);
    }
    g.outputs.push_back(b.loss.loss);
    if (opt.schedule) autoschedule(b, nodes, loss, {}, {}, g.outputs, opt);
    return g;
}

train_pipeline lower_train(std::span<const layer_desc> nodes, loss_kind loss, const lower_options& opt) {
    backward b = define_backward(nodes, loss, opt);
    train_pipeline t;
    t.forward = b.forward;
    t.target = b.target;
    const auto& f = t.forward;
    t.hyper = ImageParam(Float(32), 1, "hyper");
    t.hyper.dim(0).set_bounds(0, hyper_size);
    std::vector<update> updates;
    std::vector<ImageParam> state;
    std::vector<std::vector<int>> state_extents;
    for (std::size_t k = 0; k < f.params.size(); ++k) {
        const auto& p = f.params[k];
        t.m.emplace_back(Float(32), p.dimensions(), p.name() + "_m");
        t.v.emplace_back(Float(32), p.dimensions(), p.name() + "_v");
        t.grads.emplace_back(Float(32), p.dimensions(), p.name() + "_grad");
        for (const auto& s : {t.m.back(), t.v.back(), t.grads.back()}) {
            constrain(s, f.param_extents[k]);
            state.push_back(s);
            state_extents.push_back(f.param_extents[k]);
        }
        updates.push_back(
            define_update(p, f.param_extents[k], b.grads[k], t.m.back(), t.v.back(), t.grads.back(), t.hyper));
    }
    for (const auto& u : updates) t.outputs.push_back(u.param);
    for (const auto& u : updates) t.outputs.push_back(u.m);
    for (const auto& u : updates) t.outputs.push_back(u.v);
    for (const auto& u : updates) t.outputs.push_back(u.grad);
    t.outputs.push_back(b.loss.loss);
    t.outputs.push_back(b.loss.correct);
    state.push_back(t.hyper);
    state_extents.push_back({hyper_size});
    if (opt.schedule) {
        autoschedule(b, nodes, loss, state, state_extents, t.outputs, opt);
        if (opt.autoscheduler.empty())
            for (const auto& u : updates) specialize_update(u, t.hyper);
    }
    return t;
}

forward_pipeline lower_forward_batched(std::span<const layer_desc> nodes, const lower_options& opt) {
    lower_options fwd = opt;
    fwd.schedule = false;
    fwd.bounded_reads = true;  // the tiles round the batch up to whole vectors of images
    fwd.weights_output_major = false;
    fwd.output_is_pipeline_output = true;
    forward_pipeline f = lower_forward(nodes, fwd);
    if (opt.schedule) schedule_forward_layers(f, nodes, opt.target);
    return f;
}

eval_pipeline lower_eval(std::span<const layer_desc> nodes, loss_kind loss, const lower_options& opt) {
    eval_pipeline e;
    lower_options fwd = opt;
    fwd.output_is_pipeline_output = false;
    e.forward = lower_forward(nodes, fwd);
    if (!opt.schedule) e.forward.output.compute_root();
    loss_funcs l = define_loss(nodes, e.forward, loss, e.target);
    for (Func f : l.internal) f.compute_root();
    e.outputs = {l.loss, l.correct};
    return e;
}

}  // namespace constnet::codegen
