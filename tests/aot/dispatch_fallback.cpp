// The fallback variant of a multi-target library: before the first call, the
// program answers Halide's "can this CPU run these features?" with no, as a
// CPU without AVX would; the SSE4.1 variant then runs and must compute what
// the single-target (host) library computes, up to the rounding of separate
// multiply and add instead of FMA.
#include "dispatch_case.hpp"

#include <HalideRuntime.h>

#include <cstdio>

namespace {
int asked = 0;
extern "C" int refuse_features(int, const uint64_t*) {
    ++asked;
    return 0;
}
}  // namespace

int main() {
    halide_set_custom_can_use_target_features(&refuse_features);  // before the dispatcher's first (and only) choice
    const double diff = dispatch_case().difference();
    std::printf("dispatcher asked %d time(s); fallback vs host variant: max |difference| %.3g\n", asked, diff);
    return asked > 0 && diff < 1e-5 ? 0 : 1;
}
