/* test_route_ftr.c - a fat-tree's routing rows factored by tier
 * (topo/route.c: topo_route_factor, topo.h: struct topo_ftr): on fat-trees
 * of several shapes (one pod included) every switch's next port toward every
 * host, for every path number, is the routing table's own, and so is every
 * row the engine's per-switch choices read (topo_row); a link down (rows
 * that differ within a tier) leaves the factored rows off; a copy of the
 * fabric with a table of its own reads that table; their size is the memory
 * estimate's. */
#include "fabric_spec.h"

/* topo_next_port by the table's rows alone. */
static uint32_t next_by_rows(const struct topo *t, uint32_t sw, uint32_t dst, uint32_t p)
{
    uint32_t dl = t->host_leaf[dst];
    if (sw == dl) return t->host_down[dst];
    const struct topo_hop *g = topo_hop_at(t, sw, dl);
    if (g->n == 1) return g->off;
    return t->route_ports[g->off + (p / g->div) % g->n];
}

static void test_same_ports(void **state)
{
    (void)state;
    static const int64_t shapes[][5] = {
        {3, 2, 2, 4, 2}, {4, 3, 2, 6, 1}, {2, 4, 4, 8, 2}, {1, 3, 2, 4, 1}, {5, 2, 3, 3, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        struct cfg c;
        ft_spec(&c, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        assert_non_null(t->ftr);
        uint64_t checked = 0;
        for (uint32_t sw = 0; sw < t->nswitches; sw++)
            for (uint32_t h = 0; h < t->hosts; h++) {
                uint32_t dl = t->host_leaf[h];
                if (sw != dl) {
                    const struct topo_hop *a = topo_row(t, sw, dl), *b = topo_hop_at(t, sw, dl);
                    assert_int_equal(a->n, b->n);
                    assert_int_equal(a->div, b->div);
                }
                for (uint32_t p = 0; p < t->npaths; p++, checked++)
                    assert_int_equal(topo_next_port(t, sw, h, p), next_by_rows(t, sw, h, p));
            }
        assert_true(checked > 0);
        topo_destroy(t);
    }
}

static void test_fault_leaves_rows(void **state)
{
    (void)state;
    struct cfg c;
    ft_spec(&c, 3, 2, 2, 4, 2);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-a0");
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_null(t->ftr); /* the other leaves reach l0 over a1 only: their rows differ */
    for (uint32_t h = 0; h < t->hosts; h++)
        for (uint32_t p = 0; p < t->npaths; p++)
            assert_int_equal(topo_next_port(t, t->host_leaf[h] ? 0 : 1, h, p),
                             next_by_rows(t, t->host_leaf[h] ? 0 : 1, h, p));
    topo_destroy(t);
}

/* A view of the fabric with a table of its own (a reroute: sim/pkt_fault.c,
 * flow_fault.c copy the topology and swap route) reads its own rows. */
static void test_view_own_table(void **state)
{
    (void)state;
    struct cfg c;
    ft_spec(&c, 3, 2, 2, 4, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_non_null(t->ftr);
    struct topo view = *t;
    size_t n = (size_t)t->nswitches * t->leaves;
    struct topo_hop *mine = xmalloc(n * sizeof *mine);
    memcpy(mine, t->route, n * sizeof *mine);
    view.route = mine;
    for (uint32_t sw = 0; sw < t->nswitches; sw++)
        for (uint32_t d = 0; d < t->leaves; d++)
            if (sw != d) {
                assert_ptr_equal(topo_row(&view, sw, d), &mine[(size_t)sw * t->leaves + d]);
                assert_ptr_not_equal(topo_row(t, sw, d), topo_hop_at(t, sw, d));
            }
    free(mine);
    topo_destroy(t);
}

static void test_bytes(void **state)
{
    (void)state;
    /* htsim's fat_tree_8192 shape: 512 leaves, 512 aggregation switches, 256
     * cores: (512 + 512 + 512 * 16 + 256 * 32) rows of 8 bytes, pods of 4 */
    assert_int_equal(topo_ftr_bytes(32, 16, 16, 256) - sizeof(struct topo_ftr),
                     (512 + 512) * 4 + (512 + 512 + 512 * 16 + 256 * 32) * 8);
    struct cfg c;
    ft_spec(&c, 3, 2, 2, 4, 2);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    assert_true(topo_memory_bytes(&c.topo) >=
                (uint64_t)t->nswitches * t->leaves * sizeof *t->route + topo_ftr_bytes(3, 2, 2, 4));
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_ports),
        cmocka_unit_test(test_fault_leaves_rows),
        cmocka_unit_test(test_view_own_table),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
