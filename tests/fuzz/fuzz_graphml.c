/* fuzz_graphml.c - libFuzzer target for the GraphML fabric reader
 * (topo_gml_read, topology.file = X.graphml: libxml2's pass, then igraph's).
 * A file that reads is built (topo_gml_build: ports, the routing table of
 * topo_route_build) and every host's route to every other, on every path
 * number below npaths, must end at that host within TOPO_ROUTE_MAX_PORTS
 * ports, each port starting where the one before ended (one-way links
 * included); leaves hold multiples of hosts_per_leaf, hosts leaf by leaf.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "topo/fabric_file.h"

FUZZ_ENTRY(graphml)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    struct topo_gml g;
    struct err e = {""};
    if (topo_gml_read(path, &g, &e) == 0) {
        if (g.hosts < 2 || g.leaves < 1 || g.hosts_per_leaf < 1 ||
            g.leaf_first[g.leaves] != g.hosts)
            __builtin_trap();
        for (uint32_t l = 0; l < g.leaves; l++) /* leaves hold different counts, multiples of it */
            if (g.leaf_first[l + 1] <= g.leaf_first[l] ||
                (g.leaf_first[l + 1] - g.leaf_first[l]) % g.hosts_per_leaf)
                __builtin_trap();
        struct topo_spec s;
        memset(&s, 0, sizeof s);
        s.gpus_per_host = 1;
        struct topo *t = NULL;
        if (topo_gml_build(&s, &g, &t, &e) == 0) {
            uint32_t H = t->hosts, np = t->npaths < 4 ? t->npaths : 4;
            for (uint32_t a = 0; a < H && a < 16; a++)
                for (uint32_t b = 0; b < H && b < 16; b++)
                    for (uint32_t p = 0; p < np && a != b; p++) {
                        uint32_t ports[TOPO_ROUTE_MAX_PORTS];
                        uint32_t n = topo_route_ports(t, a, b, p, ports);
                        if (n < 2 || t->ports[ports[0]].src != a || t->ports[ports[n - 1]].dst != b)
                            __builtin_trap();
                        for (uint32_t j = 1; j < n; j++)
                            if (t->ports[ports[j]].src != t->ports[ports[j - 1]].dst)
                                __builtin_trap();
                    }
            topo_destroy(t);
        } else {
            fuzz_check_msg(e.msg);
        }
        topo_gml_free(&g);
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
