#include "onednn.hpp"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace bench {

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

struct onednn_net::impl {
    engine eng{engine::kind::cpu, 0};
    stream strm{eng};
    memory user_input, net_input;  // plain NCHW, and the first primitive's layout
    std::vector<primitive> prims;
    std::vector<std::unordered_map<int, memory>> args;
    memory last;  // the last primitive's output
    std::vector<std::string> kernels;
};

namespace {

memory::dims dims_of(const constnet::tensor_shape& s, int batch) {
    if (s.rank == 3) return {batch, s.c(), s.h(), s.w()};
    return {batch, s.features()};
}
tag plain_tag(int rank) { return rank == 4 ? tag::nchw : rank == 2 ? tag::nc : tag::x; }

// A memory in `desc` holding the constnet buffer's values (given in PyTorch layout `dims`).
memory copy_in(const engine& eng, stream& strm, const constnet::buffer& b, const memory::dims& dims,
               const memory::desc& desc) {
    memory user({dims, dt::f32, plain_tag(static_cast<int>(dims.size()))}, eng);
    std::memcpy(user.get_data_handle(), b.data(), b.number_of_elements() * sizeof(float));
    if (desc == user.get_desc()) return user;
    memory m(desc, eng);
    reorder(user, m).execute(strm, user, m);
    strm.wait();
    return m;
}

algorithm eltwise_of(constnet::op k) {
    switch (k) {
    case constnet::op::relu: return algorithm::eltwise_relu;
    case constnet::op::sigmoid: return algorithm::eltwise_logistic;
    case constnet::op::tanh: return algorithm::eltwise_tanh;
    default: throw std::invalid_argument("not an activation");
    }
}

}  // namespace

onednn_net::onednn_net(std::span<const constnet::layer_desc> nodes, std::span<const constnet::buffer> params,
                       int batch, bool plain)
    : p_(std::make_unique<impl>()) {
    auto& I = *p_;
    const auto in_dims = dims_of(nodes[0].out, batch);
    I.user_input = memory({in_dims, dt::f32, plain_tag(static_cast<int>(in_dims.size()))}, I.eng);
    memory cur;  // output of the previous primitive (empty: the network's input)
    std::size_t param = 0;
    for (std::size_t k = 1; k < nodes.size(); ++k) {
        const auto& d = nodes[k];
        if (d.kind == constnet::op::flatten) continue;  // inner product takes 4-D sources as they are
        if (constnet::is_activation(d.kind))
            throw std::invalid_argument("activation without a conv/dense before it");
        const memory::dims src_dims = cur ? cur.get_desc().dims() : in_dims;
        // oneDNN picks the source layout of convs and inner products ("any"); pooling
        // needs one given: its blocked layout for this CPU's vector width.
        const tag first = constnet::is_pool(d.kind) ? (__builtin_cpu_supports("avx512f") ? tag::nChw16c : tag::nChw8c)
                                                    : tag::any;
        // Pools take their input as it comes; convs and inner products choose
        // theirs, and a reorder (timed, part of the network) converts if needed.
        const auto src_md = plain ? memory::desc(src_dims, dt::f32, plain_tag(static_cast<int>(src_dims.size())))
                            : (cur && constnet::is_pool(d.kind)) ? cur.get_desc()
                                                                 : memory::desc(src_dims, dt::f32, first);
        primitive_attr attr;
        const bool fused = k + 1 < nodes.size() && constnet::is_activation(nodes[k + 1].kind);
        if (fused) {
            post_ops po;
            po.append_eltwise(1.0f, eltwise_of(nodes[k + 1].kind), 0.0f, 0.0f);
            attr.set_post_ops(po);
        }
        const memory::dims pad_l{d.pad_top, d.pad_left}, pad_r{d.pad_bottom, d.pad_right}, strides{d.sh, d.sw};
        std::unordered_map<int, memory> a;
        memory dst;
        // What every primitive does once its descriptor is made.
        const auto add = [&]<class Primitive>(const typename Primitive::primitive_desc& pd) {
            dst = memory(pd.dst_desc(), I.eng);
            if (!cur) I.net_input = memory(pd.src_desc(), I.eng);
            if (cur && pd.src_desc() != cur.get_desc()) {
                memory converted(pd.src_desc(), I.eng);
                I.prims.push_back(reorder(cur, converted));
                I.args.push_back({{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, converted}});
                I.kernels.push_back("reorder");
                cur = converted;
            }
            I.prims.push_back(Primitive(pd));
            I.kernels.push_back(pd.impl_info_str());
        };
        const auto load_parameters = [&](const auto& pd, const memory::dims& wdims) {
            a[DNNL_ARG_WEIGHTS] = copy_in(I.eng, I.strm, params[param], wdims, pd.weights_desc());
            a[DNNL_ARG_BIAS] = copy_in(I.eng, I.strm, params[param + 1], {d.units}, pd.bias_desc());
            param += 2;
        };
        const memory::desc bias_md({d.units}, dt::f32, tag::x);
        if (d.kind == constnet::op::conv2d) {
            const memory::dims wdims{d.units, d.in.c(), d.kh, d.kw}, odims = dims_of(d.out, batch);
            const auto any_or = [&](const memory::dims& x, tag t) { return memory::desc(x, dt::f32, plain ? t : tag::any); };
            convolution_forward::desc cd(prop_kind::forward_inference, algorithm::convolution_direct, src_md,
                                         any_or(wdims, tag::oihw), bias_md, any_or(odims, tag::nchw), strides, pad_l,
                                         pad_r);
            convolution_forward::primitive_desc pd(cd, attr, I.eng);
            load_parameters(pd, wdims);
            add.operator()<convolution_forward>(pd);
        } else if (constnet::is_pool(d.kind)) {
            const auto alg = d.kind == constnet::op::max_pool ? algorithm::pooling_max
                             : d.count_include_pad ? algorithm::pooling_avg_include_padding
                                                   : algorithm::pooling_avg_exclude_padding;
            const auto odims = dims_of(d.out, batch);
            pooling_forward::desc pdsc(prop_kind::forward_inference, alg, src_md,
                                       memory::desc(odims, dt::f32, plain ? tag::nchw : tag::any), strides,
                                       {d.kh, d.kw}, pad_l, pad_r);
            add.operator()<pooling_forward>(pooling_forward::primitive_desc(pdsc, attr, I.eng));
        } else if (d.kind == constnet::op::dense) {
            memory::dims wdims{d.units};
            for (std::size_t i = 1; i < src_dims.size(); ++i) wdims.push_back(src_dims[i]);
            const tag wtag = wdims.size() == 4 ? tag::oihw : tag::oi;
            inner_product_forward::desc ipd(prop_kind::forward_inference, src_md,
                                            memory::desc(wdims, dt::f32, plain ? wtag : tag::any), bias_md,
                                            memory::desc({batch, d.units}, dt::f32, tag::nc));
            inner_product_forward::primitive_desc pd(ipd, attr, I.eng);
            load_parameters(pd, wdims);
            add.operator()<inner_product_forward>(pd);
        } else {
            throw std::invalid_argument("no oneDNN version of " + std::string(constnet::op_name(d.kind)));
        }
        a[DNNL_ARG_SRC] = cur ? cur : I.net_input;
        a[DNNL_ARG_DST] = dst;
        I.args.push_back(std::move(a));
        cur = dst;
        if (fused) ++k;
    }
    I.last = cur;
}

onednn_net::~onednn_net() = default;

void onednn_net::set_input(const constnet::buffer& nchw) {
    auto& I = *p_;
    std::memcpy(I.user_input.get_data_handle(), nchw.data(), nchw.number_of_elements() * sizeof(float));
    if (I.net_input.get_desc() == I.user_input.get_desc()) {
        std::memcpy(I.net_input.get_data_handle(), nchw.data(), nchw.number_of_elements() * sizeof(float));
    } else {
        reorder(I.user_input, I.net_input).execute(I.strm, I.user_input, I.net_input);
        I.strm.wait();
    }
}

void onednn_net::run() {
    auto& I = *p_;
    for (std::size_t k = 0; k < I.prims.size(); ++k) I.prims[k].execute(I.strm, I.args[k]);
    I.strm.wait();
}

std::vector<float> onednn_net::output() const {
    auto& I = *p_;
    const auto dims = I.last.get_desc().dims();
    memory plain_out({dims, dt::f32, plain_tag(static_cast<int>(dims.size()))}, I.eng);
    reorder(I.last, plain_out).execute(I.strm, I.last, plain_out);
    I.strm.wait();
    const auto* p = static_cast<const float*>(plain_out.get_data_handle());
    return {p, p + plain_out.get_desc().get_size() / sizeof(float)};
}

std::string onednn_net::implementation() const {
    std::string s;
    for (const auto& k : p_->kernels) s += (s.empty() ? "" : ",") + k;
    return s;
}

void onednn_set_threads(int threads) { omp_set_num_threads(threads); }

}  // namespace bench
