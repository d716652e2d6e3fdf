/* fuzz_htsim_topo.c - libFuzzer target for htsim's .topo reader
 * (topo_htsim_read, topology.file = X.topo). A file that reads resolves to
 * a leaf_spine or fat_tree spec whose counts multiply back to its hosts and
 * that topo_check accepts or refuses with one line; one with bundles of
 * parallel links to a graph (topo_htsim_graph) of its hosts, built when
 * small, its routes chains of ports from source to destination.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "topo/fabric_file.h"

FUZZ_ENTRY(htsim_topo)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    struct topo_spec s;
    memset(&s, 0, sizeof s);
    s.kind = TOPO_FILE;
    s.gpus_per_host = 1;
    struct err e = {""};
    if (topo_htsim_read(path, &s, &e) == 0) {
        if (s.info.shape != TOPO_LEAF_SPINE && s.info.shape != TOPO_FAT_TREE &&
            s.info.shape != TOPO_FILE)
            __builtin_trap();
        if (s.info.shape == TOPO_FILE) { /* bundles: the graph, built when small */
            struct topo_gml g;
            if (topo_htsim_graph(path, &g, &e) < 0) {
                fuzz_check_msg(e.msg);
                close(fd);
                return 0;
            }
            if (g.hosts != s.leaves * s.hosts_per_leaf || g.leaf_first[g.leaves] != g.hosts)
                __builtin_trap();
            struct topo *t = NULL;
            if (g.hosts <= 4096 && g.nlinks <= 65536 && topo_gml_build(&s, &g, &t, &e) == 0) {
                uint32_t H = t->hosts, np = t->npaths < 4 ? t->npaths : 4;
                for (uint32_t a = 0; a < H && a < 16; a++)
                    for (uint32_t p = 0; p < np; p++) {
                        uint32_t b = H - 1 - a, ports[TOPO_ROUTE_MAX_PORTS];
                        if (a == b) continue;
                        uint32_t n = topo_route_ports(t, a, b, p, ports);
                        if (n < 2 || t->ports[ports[0]].src != a || t->ports[ports[n - 1]].dst != b)
                            __builtin_trap();
                        for (uint32_t j = 1; j < n; j++)
                            if (t->ports[ports[j]].src != t->ports[ports[j - 1]].dst)
                                __builtin_trap();
                    }
                topo_destroy(t);
            }
            topo_gml_free(&g);
            close(fd);
            return 0;
        }
        if (s.leaves < 1 || s.hosts_per_leaf < 1 || s.spines < 1) __builtin_trap();
        if (s.info.shape == TOPO_FAT_TREE && s.leaves != s.pods * s.leaves_per_pod)
            __builtin_trap();
        const struct opt_def *bad;
        if (topo_check(&s, &bad, &e) < 0)
            fuzz_check_msg(e.msg);
        else if (topo_port_count(&s) < 2 * (uint64_t)(s.leaves * s.hosts_per_leaf))
            __builtin_trap();
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
