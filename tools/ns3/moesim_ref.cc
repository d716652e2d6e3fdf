/* moesim_ref.cc - an ns-3 (3.37) reference run of one leaf-spine scenario
 * for tools/ns3_compare.sh (docs/validation.md, "ns-3 on the matched set").
 *
 * Not part of moesim's build: ns-3 is never needed by the repository's build
 * or tests. tools/ns3_compare.sh compiles this file in a temporary folder
 * when Debian's libns3-dev is installed.
 *
 * What it builds: `leaves` leaf switches of `hpl` hosts each and `spines`
 * spine switches, every link point-to-point at `gbps` and `lat_ns`; the
 * flows of an htsim connection matrix (the file tools/ns3_compare.sh writes
 * for both simulators: "s->d id N start T size B" lines) as TCP connections
 * under ns-3's DCTCP; switch output ports with a RED queue disc that marks
 * CE at a step (MinTh = MaxTh = k_bytes, QW = 1: the instantaneous queue),
 * a buffer of buffer_bytes. Routing is this file's own (LsRouting below):
 * at a leaf, a packet for another leaf goes up to a spine chosen per flow
 * (path=ecmp: a seeded hash of the 4-tuple; ns-3.37's Ipv4GlobalRouting has
 * only per-packet random ECMP) or per packet (path=spray: uniform random,
 * what Ipv4GlobalRouting's RandomEcmpRouting does); a spine sends it down
 * to the destination's leaf.
 *
 * Matching moesim (the choices are explained in docs/validation.md):
 * - wire sizes: moesim's packet is `mtu` bytes on the wire with no headers;
 *   here a full segment is mtu - 42 bytes of payload (IPv4 20 + TCP 20 +
 *   PPP 2, TCP timestamps off), so each flow carries B - 42 x ceil(B/mtu)
 *   payload bytes: the same packets, the same wire bytes as moesim's B.
 * - no slow start: the initial window is `window_pkts` segments and the
 *   initial ssthresh the same, so a flow starts in congestion avoidance
 *   with moesim's transport.window_bytes (= window_pkts x mtu).
 * - an ack per segment (DelAckCount 1), classic recovery (an immediate cut
 *   to cwnd (1 - alpha/2), as moesim's, not PRR's gradual one).
 * - no handshake in the flow time: connections open at 0, every flow's
 *   data is written at t0_us, and a flow's time is from t0 to the arrival
 *   of its last byte at the receiver (moesim's flows.end_ns - start_ns).
 * - a host's queue serves its flows round robin, a packet each (nic_rr = 1:
 *   FqCoDel's deficit round robin with CoDel's target at 1 s, so it never
 *   drops or marks), as moesim's NIC takes its ready flows in turn; a FIFO
 *   (nic_rr = 0) sends each socket's window as one burst.
 * - DCTCP's cut is floored at one segment (FlooredDctcp below).
 * - dupthresh (TcpSocketBase::ReTxThreshold, default 3): sprayed packets
 *   arrive out of order; moesim (recovery = none) reorders for free, TCP
 *   takes 3 duplicate acks for a loss. A large value matches moesim.
 * - finite buffers (buffer_bytes: the switch queue discs' MaxSize, drop-tail
 *   at it) with TCP's own loss recovery: SACK (on by default here, as in
 *   ns-3) with RFC 6675's scoreboard, fast retransmit after dupthresh
 *   duplicate acks, the retransmission timer from min_rto_us with a clock
 *   granularity of clock_us (ns-3's default 1 ms would floor every RTO
 *   there); against moesim's transport.recovery = selective and rto_ns.
 *
 * Output (stdout): "flow ID SRC DST BYTES FCT_US RETX_BYTES" per flow, then
 * "summary flows N done N last_us X marks M drops D retx_bytes R maxlink_bytes L" (marks and
 * drops over the switches' queue discs, drops also the devices' queues;
 * retx_bytes the data bytes sent beyond each flow's payload; maxlink_bytes
 * the most bytes one link direction carried, on the wire, acks included). Exit status 1
 * when a flow did not finish by end_ms.
 */
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

using namespace ns3;

namespace
{

struct Flow {
    uint32_t src, dst;
    uint64_t bytes;   /* moesim's bytes (wire) */
    uint64_t payload; /* what TCP carries here */
    uint64_t got = 0, sent = 0;
    double end_s = -1;
};

std::vector<Flow> g_flows;
double g_t0;

/* the fabric, as LsRouting sees it */
struct Port {
    uint32_t iface;   /* the Ipv4 interface index at this node */
    Ipv4Address peer; /* the address at the link's other end */
};
struct NodeRole {
    int kind = 0; /* 0 host, 1 leaf, 2 spine */
    uint32_t index = 0;
    std::vector<Port> down; /* leaf: per local host; spine: per leaf */
    std::vector<Port> up;   /* host: its NIC; leaf: per spine */
};
std::vector<NodeRole> g_role;           /* by node id */
std::map<uint32_t, uint32_t> g_host_of; /* host address -> host index */
uint32_t g_hpl, g_path_spray, g_seed;

/* Leaf-spine routing: hosts send everything up their one link; a leaf
 * sends down to a local host, else up (per flow hash or per packet
 * random); a spine down to the destination's leaf. */
class LsRouting : public Ipv4RoutingProtocol
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid = TypeId("moesim::LsRouting")
                                .SetParent<Ipv4RoutingProtocol>()
                                .AddConstructor<LsRouting>();
        return tid;
    }
    void SetRole(uint32_t node)
    {
        m_node = node;
        m_rng = CreateObject<UniformRandomVariable>();
        m_rng->SetStream(1000 + node);
    }

    Ptr<Ipv4Route> RouteOutput(Ptr<Packet>, const Ipv4Header &h, Ptr<NetDevice>,
                               Socket::SocketErrno &err) override
    {
        const NodeRole &r = g_role[m_node];
        if (r.kind != 0 || r.up.empty()) {
            err = Socket::ERROR_NOROUTETOHOST;
            return nullptr;
        }
        err = Socket::ERROR_NOTERROR;
        return Make(h.GetDestination(), r.up[0]);
    }

    bool RouteInput(Ptr<const Packet> p, const Ipv4Header &h, Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb, MulticastForwardCallback, LocalDeliverCallback lcb,
                    ErrorCallback ecb) override
    {
        Ipv4Address d = h.GetDestination();
        uint32_t iif = m_ipv4->GetInterfaceForDevice(idev);
        for (uint32_t i = 0; i < m_ipv4->GetNInterfaces(); i++)
            for (uint32_t a = 0; a < m_ipv4->GetNAddresses(i); a++)
                if (m_ipv4->GetAddress(i, a).GetLocal() == d) {
                    lcb(p, h, iif);
                    return true;
                }
        auto it = g_host_of.find(d.Get());
        const NodeRole &r = g_role[m_node];
        if (it == g_host_of.end() || r.kind == 0) {
            ecb(p, h, Socket::ERROR_NOROUTETOHOST);
            return false;
        }
        uint32_t host = it->second, leaf = host / g_hpl;
        if (r.kind == 2) {
            ucb(Make(d, r.down[leaf]), p, h);
            return true;
        }
        if (leaf == r.index) {
            ucb(Make(d, r.down[host % g_hpl]), p, h);
            return true;
        }
        uint32_t s;
        if (g_path_spray) {
            s = m_rng->GetInteger(0, (uint32_t)r.up.size() - 1);
        } else {
            TcpHeader t;
            p->PeekHeader(t);
            uint64_t k = ((uint64_t)h.GetSource().Get() << 32) ^ d.Get();
            k ^= ((uint64_t)t.GetSourcePort() << 16 | t.GetDestinationPort()) *
                 0x9E3779B97F4A7C15ull;
            k ^= (uint64_t)g_seed * 0xC2B2AE3D27D4EB4Full + m_node;
            k ^= k >> 33; /* splitmix64's finalizer */
            k *= 0xff51afd7ed558ccdull;
            k ^= k >> 33;
            k *= 0xc4ceb9fe1a85ec53ull;
            k ^= k >> 33;
            s = (uint32_t)(k % r.up.size());
        }
        ucb(Make(d, r.up[s]), p, h);
        return true;
    }

    void NotifyInterfaceUp(uint32_t) override {}
    void NotifyInterfaceDown(uint32_t) override {}
    void NotifyAddAddress(uint32_t, Ipv4InterfaceAddress) override {}
    void NotifyRemoveAddress(uint32_t, Ipv4InterfaceAddress) override {}
    void SetIpv4(Ptr<Ipv4> ipv4) override
    {
        m_ipv4 = ipv4;
    }
    void PrintRoutingTable(Ptr<OutputStreamWrapper>, Time::Unit) const override {}

  private:
    Ptr<Ipv4Route> Make(Ipv4Address d, const Port &port) const
    {
        Ptr<Ipv4Route> rt = Create<Ipv4Route>();
        rt->SetDestination(d);
        rt->SetGateway(port.peer);
        rt->SetSource(m_ipv4->GetAddress(port.iface, 0).GetLocal());
        rt->SetOutputDevice(m_ipv4->GetNetDevice(port.iface));
        return rt;
    }
    Ptr<Ipv4> m_ipv4;
    uint32_t m_node = 0;
    Ptr<UniformRandomVariable> m_rng;
};

/* ns-3.37's TcpDctcp::GetSsThresh returns cwnd (1 - alpha/2) with no
 * floor: a window cut below one segment cannot send and waits for the RTO
 * (seen on the 16-host all-to-all: 10 ms stalls). Linux floors it at two
 * segments; moesim at one packet: so this one. */
class FlooredDctcp : public TcpDctcp
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid =
            TypeId("moesim::FlooredDctcp").SetParent<TcpDctcp>().AddConstructor<FlooredDctcp>();
        return tid;
    }
    FlooredDctcp() = default;
    FlooredDctcp(const FlooredDctcp &o) = default;
    uint32_t GetSsThresh(Ptr<const TcpSocketState> tcb, uint32_t inflight) override
    {
        return std::max(TcpDctcp::GetSsThresh(tcb, inflight), tcb->m_segmentSize);
    }
    Ptr<TcpCongestionOps> Fork() override
    {
        return CopyObject<FlooredDctcp>(this);
    }
};

void OnRecv(uint32_t id, Ptr<Socket> s)
{
    Flow &f = g_flows[id];
    while (Ptr<Packet> p = s->Recv())
        f.got += p->GetSize();
    if (f.got >= f.payload && f.end_s < 0) f.end_s = Simulator::Now().GetSeconds();
}

void OnAccept(uint32_t id, Ptr<Socket> s, const Address &)
{
    s->SetRecvCallback(MakeBoundCallback(&OnRecv, id));
}

void OnTx(uint32_t id, Ptr<const Packet> p, const TcpHeader &, Ptr<const TcpSocketBase>)
{
    g_flows[id].sent += p->GetSize();
}

std::vector<uint64_t> g_txbytes; /* per device, on the wire */

void OnPhyTxEnd(uint32_t dev, Ptr<const Packet> p)
{
    g_txbytes[dev] += p->GetSize();
}

void Connect(Ptr<Socket> s, InetSocketAddress to)
{
    s->Connect(to);
}

void StartFlow(uint32_t id, Ptr<Socket> s)
{
    Flow &f = g_flows[id];
    if (s->Send(Create<Packet>((uint32_t)f.payload)) < 0) {
        fprintf(stderr, "moesim_ref: flow %u: send of %" PRIu64 " bytes refused\n", id, f.payload);
        exit(1);
    }
}

/* the connection matrix: "s->d id N start T size B" lines */
void ReadCm(const std::string &path, uint32_t hosts, uint32_t mtu)
{
    std::ifstream in(path);
    if (!in) {
        fprintf(stderr, "moesim_ref: cannot open %s\n", path.c_str());
        exit(2);
    }
    std::string line;
    int ln = 0;
    while (std::getline(in, line)) {
        ln++;
        unsigned s, d, id;
        double start;
        unsigned long long b;
        if (line.find("->") == std::string::npos) continue; /* Nodes, Connections */
        if (sscanf(line.c_str(), "%u->%u id %u start %lf size %llu", &s, &d, &id, &start, &b) !=
                5 ||
            s >= hosts || d >= hosts || s == d || b == 0 || start != 0) {
            fprintf(stderr, "%s:%d: bad or unsupported connection line\n", path.c_str(), ln);
            exit(2);
        }
        Flow f;
        f.src = s;
        f.dst = d;
        f.bytes = b;
        f.payload = b - 42 * ((b + mtu - 1) / mtu);
        g_flows.push_back(f);
    }
}

} // namespace

int main(int argc, char **argv)
{
    std::string cm, path = "ecmp";
    uint32_t leaves = 4, spines = 4, hpl = 4, mtu = 4096, window_pkts = 29, seed = 1;
    uint32_t dupthresh = 3, nic_rr = 1, sack = 1;
    double gbps = 100, lat_ns = 1000, t0_us = 50, end_ms = 100, min_rto_us = 10000, clock_us = 1000;
    uint64_t k_bytes = 65536, buffer_bytes = 1ull << 30;
    CommandLine cmd;
    cmd.AddValue("cm", "connection matrix (htsim format)", cm);
    cmd.AddValue("leaves", "leaf switches", leaves);
    cmd.AddValue("spines", "spine switches", spines);
    cmd.AddValue("hpl", "hosts per leaf", hpl);
    cmd.AddValue("gbps", "every link's rate, Gb/s", gbps);
    cmd.AddValue("lat_ns", "every link's latency, ns", lat_ns);
    cmd.AddValue("mtu", "packet on the wire, bytes (IP MTU = mtu - 2)", mtu);
    cmd.AddValue("window_pkts", "initial window and ssthresh, segments", window_pkts);
    cmd.AddValue("k_bytes", "RED step threshold (MinTh = MaxTh), bytes of the queue disc", k_bytes);
    cmd.AddValue("buffer_bytes", "switch port buffer (the queue disc's MaxSize), bytes",
                 buffer_bytes);
    cmd.AddValue("dupthresh", "TCP duplicate-ack threshold (ReTxThreshold)", dupthresh);
    cmd.AddValue("sack", "1: selective acknowledgements (TcpSocketBase::Sack)", sack);
    cmd.AddValue("min_rto_us", "TCP's minimum retransmission timeout, us", min_rto_us);
    cmd.AddValue("clock_us", "TCP's clock granularity (in the RTO's estimate), us", clock_us);
    cmd.AddValue("nic_rr",
                 "1: the host's queue serves its flows round robin (moesim's NIC); 0: FIFO",
                 nic_rr);
    cmd.AddValue("path", "ecmp (per-flow hash) or spray (per-packet random)", path);
    cmd.AddValue("seed", "RNG seed (spraying's draws, the hash)", seed);
    cmd.AddValue("t0_us", "when the flows' data is written (connections open at 0)", t0_us);
    cmd.AddValue("end_ms", "stop the simulation at", end_ms);
    cmd.Parse(argc, argv);
    if (cm.empty() || (path != "ecmp" && path != "spray")) {
        fprintf(stderr, "usage: moesim_ref --cm=FILE [--path=ecmp|spray] ...\n");
        return 2;
    }
    g_hpl = hpl;
    g_path_spray = path == "spray";
    g_seed = seed;
    g_t0 = t0_us * 1e-6;
    RngSeedManager::SetSeed(seed);
    uint32_t hosts = leaves * hpl;
    ReadCm(cm, hosts, mtu);

    uint32_t seg = mtu - 42;
    Config::SetDefault("ns3::TcpL4Protocol::SocketType", TypeIdValue(FlooredDctcp::GetTypeId()));
    Config::SetDefault("ns3::TcpL4Protocol::RecoveryType",
                       TypeIdValue(TcpClassicRecovery::GetTypeId()));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(seg));
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(window_pkts));
    Config::SetDefault("ns3::TcpSocket::InitialSlowStartThreshold",
                       UintegerValue(window_pkts * seg));
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(1));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(64u << 20));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(64u << 20));
    Config::SetDefault("ns3::TcpSocketBase::Timestamp", BooleanValue(false));
    Config::SetDefault("ns3::TcpSocketBase::MinRto",
                       TimeValue(NanoSeconds((uint64_t)(min_rto_us * 1000))));
    Config::SetDefault("ns3::TcpSocketBase::ClockGranularity",
                       TimeValue(NanoSeconds((uint64_t)(clock_us * 1000))));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(sack != 0));
    Config::SetDefault("ns3::TcpSocketBase::ReTxThreshold", UintegerValue(dupthresh));

    NodeContainer nodes;
    nodes.Create(hosts + leaves + spines);
    g_role.resize(nodes.GetN());
    InternetStackHelper stack;
    stack.Install(nodes);

    PointToPointHelper p2p;
    std::ostringstream rate;
    rate << gbps << "Gbps";
    p2p.SetDeviceAttribute("DataRate", StringValue(rate.str()));
    p2p.SetDeviceAttribute("Mtu", UintegerValue(mtu - 2));
    p2p.SetChannelAttribute("Delay", TimeValue(NanoSeconds((uint64_t)lat_ns)));
    p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", StringValue("1p"));

    TrafficControlHelper red, fifo;
    std::ostringstream maxsz;
    maxsz << buffer_bytes << "B";
    red.SetRootQueueDisc("ns3::RedQueueDisc", "MaxSize", StringValue(maxsz.str()), "MinTh",
                         DoubleValue((double)k_bytes), "MaxTh", DoubleValue((double)k_bytes), "QW",
                         DoubleValue(1.0), "UseEcn", BooleanValue(true), "UseHardDrop",
                         BooleanValue(false), "Gentle", BooleanValue(false), "MeanPktSize",
                         UintegerValue(mtu - 2), "LinkBandwidth", StringValue(rate.str()),
                         "LinkDelay", TimeValue(NanoSeconds((uint64_t)lat_ns)));
    if (nic_rr) /* per-flow round robin (DRR, a packet's quantum), CoDel off */
        fifo.SetRootQueueDisc("ns3::FqCoDelQueueDisc", "MaxSize", StringValue("1000000p"), "Flows",
                              UintegerValue(65536), "Target", StringValue("1s"), "Interval",
                              StringValue("100s"), "UseEcn", BooleanValue(false));
    else
        fifo.SetRootQueueDisc("ns3::FifoQueueDisc", "MaxSize", StringValue("1000000p"));

    Ipv4AddressHelper addr;
    addr.SetBase("10.0.0.0", "255.255.255.252");
    std::vector<QueueDiscContainer> qds;
    /* one link: a's device first; a is a host or a leaf, b a leaf or a spine */
    auto link = [&](uint32_t a, uint32_t b, bool a_is_host, Port &pa, Port &pb) {
        NetDeviceContainer d = p2p.Install(nodes.Get(a), nodes.Get(b));
        if (a_is_host)
            fifo.Install(d.Get(0));
        else
            qds.push_back(red.Install(d.Get(0)));
        qds.push_back(red.Install(d.Get(1)));
        Ipv4InterfaceContainer ic = addr.Assign(d);
        addr.NewNetwork();
        pa.iface = ic.Get(0).second;
        pa.peer = ic.GetAddress(1);
        pb.iface = ic.Get(1).second;
        pb.peer = ic.GetAddress(0);
        return ic;
    };
    for (uint32_t l = 0; l < leaves; l++) {
        uint32_t ln = hosts + l;
        g_role[ln].kind = 1;
        g_role[ln].index = l;
        g_role[ln].down.resize(hpl);
        g_role[ln].up.resize(spines);
        for (uint32_t j = 0; j < hpl; j++) {
            uint32_t h = l * hpl + j;
            g_role[h].up.resize(1);
            Ipv4InterfaceContainer ic = link(h, ln, true, g_role[h].up[0], g_role[ln].down[j]);
            g_host_of[ic.GetAddress(0).Get()] = h;
        }
    }
    for (uint32_t s = 0; s < spines; s++) {
        uint32_t sn = hosts + leaves + s;
        g_role[sn].kind = 2;
        g_role[sn].index = s;
        g_role[sn].down.resize(leaves);
        for (uint32_t l = 0; l < leaves; l++)
            link(hosts + l, sn, false, g_role[hosts + l].up[s], g_role[sn].down[l]);
    }
    for (uint32_t n = 0; n < nodes.GetN(); n++)
        for (uint32_t i = 0; i < nodes.Get(n)->GetNDevices(); i++) {
            Ptr<NetDevice> d = nodes.Get(n)->GetDevice(i);
            if (!DynamicCast<PointToPointNetDevice>(d)) continue;
            d->TraceConnectWithoutContext(
                "PhyTxEnd", MakeBoundCallback(&OnPhyTxEnd, (uint32_t)g_txbytes.size()));
            g_txbytes.push_back(0);
        }
    std::vector<Ipv4Address> host_addr(hosts);
    for (auto &kv : g_host_of)
        host_addr[kv.second] = Ipv4Address(kv.first);
    for (uint32_t n = 0; n < nodes.GetN(); n++) {
        Ptr<LsRouting> r = CreateObject<LsRouting>();
        r->SetRole(n);
        nodes.Get(n)->GetObject<Ipv4>()->SetRoutingProtocol(r);
    }

    for (uint32_t i = 0; i < g_flows.size(); i++) {
        const Flow &f = g_flows[i];
        uint16_t port = (uint16_t)(10000 + i);
        Ptr<Socket> ls = Socket::CreateSocket(nodes.Get(f.dst), TcpSocketFactory::GetTypeId());
        ls->Bind(InetSocketAddress(Ipv4Address::GetAny(), port));
        ls->Listen();
        ls->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address &>(),
                              MakeBoundCallback(&OnAccept, i));
        Ptr<Socket> s = Socket::CreateSocket(nodes.Get(f.src), TcpSocketFactory::GetTypeId());
        s->Bind();
        s->TraceConnectWithoutContext("Tx", MakeBoundCallback(&OnTx, i));
        /* at 0, not now: the queue discs are initialized when the run starts */
        Simulator::Schedule(Seconds(0), &Connect, s, InetSocketAddress(host_addr[f.dst], port));
        Simulator::Schedule(Seconds(g_t0), &StartFlow, i, s);
    }

    Simulator::Stop(MilliSeconds((uint64_t)end_ms));
    Simulator::Run();

    uint64_t marks = 0, drops = 0, retx = 0;
    for (auto &qc : qds)
        for (auto it = qc.Begin(); it != qc.End(); ++it) {
            const QueueDisc::Stats &st = (*it)->GetStats();
            marks += st.GetNMarkedPackets(RedQueueDisc::UNFORCED_MARK) +
                     st.GetNMarkedPackets(RedQueueDisc::FORCED_MARK);
            drops += st.nTotalDroppedPackets;
        }
    for (uint32_t n = 0; n < nodes.GetN(); n++)
        for (uint32_t i = 0; i < nodes.Get(n)->GetNDevices(); i++) {
            Ptr<PointToPointNetDevice> d =
                DynamicCast<PointToPointNetDevice>(nodes.Get(n)->GetDevice(i));
            if (d) drops += d->GetQueue()->GetTotalDroppedPackets();
        }
    double last = 0;
    uint32_t done = 0;
    for (uint32_t i = 0; i < g_flows.size(); i++) {
        const Flow &f = g_flows[i];
        double fct = f.end_s < 0 ? -1 : (f.end_s - g_t0) * 1e6;
        uint64_t r = f.sent > f.payload ? f.sent - f.payload : 0;
        retx += r;
        if (f.end_s >= 0) {
            done++;
            if (fct > last) last = fct;
        }
        printf("flow %u %u %u %" PRIu64 " %.3f %" PRIu64 "\n", i, f.src, f.dst, f.bytes, fct, r);
    }
    uint64_t maxlink = 0;
    for (uint64_t b : g_txbytes)
        maxlink = std::max(maxlink, b);
    printf("summary flows %zu done %u last_us %.3f marks %" PRIu64 " drops %" PRIu64
           " retx_bytes %" PRIu64 " maxlink_bytes %" PRIu64 "\n",
           g_flows.size(), done, last, marks, drops, retx, maxlink);
    Simulator::Destroy();
    return done == g_flows.size() ? 0 : 1;
}
