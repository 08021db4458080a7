// Harness sanity: fails with a known message and known template arguments,
// as the DSL's rules do. In fail mode the harness must accept it
// (compile_fail.harness.accepts_expected_failure); in pass mode it must
// reject it (compile_fail.harness.rejects_failing_twin, WILL_FAIL).
// expect-error: harness sanity: the expected message
// expect-check: sanity_rule<layer=2, axis='h', n=5>
// expect-errors: 1
template <int layer, char axis, int n>
constexpr void sanity_rule() {
    static_assert(n < 0, "harness sanity: the expected message");
}
constexpr int probe = (sanity_rule<2, 'h', 5>(), 0);
