// Harness sanity: the right message, but other numbers than the expected ones
// (n = 5, not 6); the harness must reject it
// (compile_fail.harness.rejects_wrong_numbers, WILL_FAIL).
// expect-error: harness sanity: the expected message
// expect-check: sanity_rule<layer=2, axis='h', n=6>
template <int layer, char axis, int n>
constexpr void sanity_rule() {
    static_assert(n < 0, "harness sanity: the expected message");
}
constexpr int probe = (sanity_rule<2, 'h', 5>(), 0);
