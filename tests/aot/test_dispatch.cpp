// A library built for several targets (here the host's features and SSE4.1)
// runs the first variant the CPU can run. The fallback variant is checked by
// dispatch_fallback.cpp, a program of its own: the dispatcher chooses once
// per process, at the first call.
#include "dispatch_case.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a multi-target library runs the host's variant, equal to the single-target library", "[aot][dispatch]") {
    CHECK(dispatch_case().difference() == 0.0);
}
