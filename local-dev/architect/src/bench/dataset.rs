//! A deterministic, node_exporter-like data set: hosts with CPUs, disks, network devices and
//! filesystems, each exposing the series a real node_exporter does, with values that behave like
//! the real ones (counters increasing by decimal increments at plausible rates, gauges wandering
//! around a level, byte values in pages, high-entropy fractional durations).
//!
//! Everything derives from a seed: series `i` of a data set always has the same labels and the
//! same value sequence, whatever the sharding or batching of the sender.

use architect_model::Labels;

/// A small, fast, deterministic PRNG (xorshift64*).
#[derive(Clone, Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        // splitmix64 of the seed so that nearby seeds give unrelated streams; never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, n).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// How a series' value evolves from one scrape to the next.
#[derive(Clone, Debug)]
pub(crate) enum Model {
    /// A value that never changes (totals, limits, info metrics, boot times).
    Const(f64),
    /// A monotonic counter: each scrape, with probability `p`, it grows by about
    /// `per_sec * interval`, quantised to `1/scale` (scale 100 = 0.01 s CPU ticks, 1 = bytes).
    Counter { per_sec: f64, scale: f64, p: f64 },
    /// A gauge wandering around `mean` (mean-reverting random walk), relative step `jitter`,
    /// clamped to [min, max] and quantised to `1/scale`.
    Gauge {
        mean: f64,
        jitter: f64,
        scale: f64,
        min: f64,
        max: f64,
    },
    /// A fresh high-entropy measurement each scrape (durations): `mean * e^(spread*(u-0.5))`,
    /// quantised to nanoseconds.
    Noisy { mean: f64, spread: f64 },
    /// The scrape time in seconds plus a small jitter (node_time_seconds).
    Clock,
}

/// One series of the data set.
#[derive(Clone, Debug)]
pub(crate) struct SeriesDef {
    pub(crate) labels: Labels,
    pub(crate) model: Model,
    seed: u64,
}

/// The evolving state of one series while samples are generated in time order.
#[derive(Clone, Debug)]
pub(crate) struct SeriesState {
    rng: XorShift,
    /// Counter value in units of `1/scale`; gauge value otherwise.
    x: f64,
    started: bool,
}

impl SeriesDef {
    /// "counter", "gauge", "constant" or "high-entropy" (fresh fractional value each scrape).
    pub(crate) fn kind(&self) -> &'static str {
        match self.model {
            Model::Const(_) => "constant",
            Model::Counter { .. } => "counter",
            Model::Gauge { .. } => "gauge",
            Model::Noisy { .. } | Model::Clock => "high-entropy",
        }
    }

    pub(crate) fn state(&self) -> SeriesState {
        SeriesState {
            rng: XorShift::new(self.seed),
            x: 0.0,
            started: false,
        }
    }

    /// The value at scrape time `t_ms`; calls must come in increasing time order.
    pub(crate) fn next(&self, st: &mut SeriesState, t_ms: i64, interval_secs: f64) -> f64 {
        let rng = &mut st.rng;
        match self.model {
            Model::Const(v) => v,
            Model::Counter { per_sec, scale, p } => {
                if !st.started {
                    // The host has been up for 3..60 days: start at the matching total.
                    let uptime = 86_400.0 * (3.0 + 57.0 * rng.unit());
                    st.x = (per_sec * uptime * scale * p).floor();
                    st.started = true;
                } else if rng.unit() < p {
                    let mut f = 0.4 + 1.2 * rng.unit();
                    if rng.below(100) == 0 {
                        f *= 6.0; // the occasional burst
                    }
                    st.x += (per_sec * interval_secs * scale * f).round().max(1.0);
                }
                st.x / scale
            }
            Model::Gauge {
                mean,
                jitter,
                scale,
                min,
                max,
            } => {
                if !st.started {
                    st.x = mean * (1.0 + jitter * 10.0 * (rng.unit() - 0.5));
                    st.started = true;
                } else {
                    st.x += (mean - st.x) * 0.02 + mean * jitter * 2.0 * (rng.unit() - 0.5);
                }
                st.x = st.x.clamp(min, max);
                (st.x * scale).round() / scale
            }
            Model::Noisy { mean, spread } => {
                let v = mean * (spread * (rng.unit() - 0.5)).exp();
                (v * 1e9).round() / 1e9
            }
            Model::Clock => {
                let jitter_ns = 200_000 + rng.below(30_000_000) as i64;
                (t_ms * 1_000_000 + jitter_ns) as f64 / 1e9
            }
        }
    }
}

const CPU_MODES: [(&str, f64); 8] = [
    ("idle", 0.72),
    ("iowait", 0.015),
    ("irq", 0.001),
    ("nice", 0.002),
    ("softirq", 0.008),
    ("steal", 0.003),
    ("system", 0.06),
    ("user", 0.19),
];

const COLLECTORS: [&str; 40] = [
    "arp",
    "bcache",
    "bonding",
    "btrfs",
    "conntrack",
    "cpu",
    "cpufreq",
    "diskstats",
    "dmi",
    "edac",
    "entropy",
    "fibrechannel",
    "filefd",
    "filesystem",
    "hwmon",
    "infiniband",
    "ipvs",
    "loadavg",
    "mdadm",
    "meminfo",
    "netclass",
    "netdev",
    "netstat",
    "nfs",
    "nfsd",
    "nvme",
    "os",
    "powersupplyclass",
    "pressure",
    "rapl",
    "schedstat",
    "sockstat",
    "softnet",
    "stat",
    "textfile",
    "thermal_zone",
    "time",
    "timex",
    "uname",
    "vmstat",
];

/// Bucket bounds of the handler histogram and the share of requests at or below each.
const HTTP_BUCKETS: [(&str, f64); 8] = [
    ("0.005", 0.05),
    ("0.01", 0.2),
    ("0.025", 0.55),
    ("0.05", 0.8),
    ("0.1", 0.93),
    ("0.25", 0.98),
    ("1", 0.998),
    ("+Inf", 1.0),
];

/// Collects the series of one host.
struct Host<'a> {
    instance: String,
    out: &'a mut Vec<SeriesDef>,
    rng: XorShift,
}

impl Host<'_> {
    fn push(&mut self, name: &str, extra: &[(&str, &str)], model: Model) {
        let mut pairs: Vec<(String, String)> = vec![
            ("__name__".into(), name.into()),
            ("instance".into(), self.instance.clone()),
            ("job".into(), "node".into()),
        ];
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        let seed = self.rng.next_u64();
        self.out.push(SeriesDef {
            labels: Labels::from_pairs(pairs),
            model,
            seed,
        });
    }

    fn counter(&mut self, name: &str, extra: &[(&str, &str)], per_sec: f64, scale: f64) {
        self.push(
            name,
            extra,
            Model::Counter {
                per_sec,
                scale,
                p: 1.0,
            },
        );
    }

    /// A counter that only moves now and then (errors, drops, OOM kills).
    fn rare(&mut self, name: &str, extra: &[(&str, &str)], per_event: f64, p: f64) {
        self.push(
            name,
            extra,
            Model::Counter {
                per_sec: per_event / 15.0,
                scale: 1.0,
                p,
            },
        );
    }

    fn gauge(&mut self, name: &str, extra: &[(&str, &str)], mean: f64, jitter: f64, scale: f64) {
        self.push(
            name,
            extra,
            Model::Gauge {
                mean,
                jitter,
                scale,
                min: 0.0,
                max: f64::MAX,
            },
        );
    }

    fn bounded(
        &mut self,
        name: &str,
        extra: &[(&str, &str)],
        mean: f64,
        jitter: f64,
        scale: f64,
        max: f64,
    ) {
        self.push(
            name,
            extra,
            Model::Gauge {
                mean,
                jitter,
                scale,
                min: 0.0,
                max,
            },
        );
    }

    fn constant(&mut self, name: &str, extra: &[(&str, &str)], v: f64) {
        self.push(name, extra, Model::Const(v));
    }
}

/// Builds the first `n` series of the data set for `seed`, `start_ms` being the first scrape
/// (used for boot and start times).
pub(crate) fn build_series(n: usize, seed: u64, start_ms: i64) -> Vec<SeriesDef> {
    let mut out = Vec::with_capacity(n + 1024);
    let mut host_idx = 0u64;
    while out.len() < n {
        build_host(&mut out, seed, host_idx, start_ms);
        host_idx += 1;
    }
    out.truncate(n);
    out
}

fn build_host(out: &mut Vec<SeriesDef>, seed: u64, idx: u64, start_ms: i64) {
    let mut rng = XorShift::new(seed ^ idx.wrapping_mul(0x1000_0000_01B3));
    let ncpu = [8usize, 4, 16, 8, 32, 16, 8, 2][(idx % 8) as usize];
    let mem_total = (ncpu as f64) * 4.0 * 1024.0 * 1024.0 * 1024.0;
    let load = 0.1 + 0.6 * rng.unit(); // this host's utilisation level
    let instance = format!(
        "10.{}.{}.{}:9100",
        10 + idx / 65_536,
        (idx / 256) % 256,
        idx % 256
    );
    let boot = (start_ms / 1000) as f64 - (86_400.0 * (3.0 + 50.0 * rng.unit())).floor();
    let mut h = Host {
        instance,
        out,
        rng: XorShift::new(rng.next_u64()),
    };
    let page = 1.0 / 4096.0;

    // CPU.
    for c in 0..ncpu {
        let cpu = c.to_string();
        for (mode, share) in CPU_MODES {
            let busy = if mode == "idle" {
                1.0 - load * 0.9
            } else {
                share * load * 3.0
            };
            h.counter(
                "node_cpu_seconds_total",
                &[("cpu", &cpu), ("mode", mode)],
                busy,
                100.0,
            );
        }
        for mode in ["nice", "user"] {
            h.rare(
                "node_cpu_guest_seconds_total",
                &[("cpu", &cpu), ("mode", mode)],
                0.01,
                0.01,
            );
        }
        h.bounded(
            "node_cpu_scaling_frequency_hertz",
            &[("cpu", &cpu)],
            2.4e9,
            0.08,
            1e-3,
            3.6e9,
        );
        h.constant(
            "node_cpu_scaling_frequency_max_hertz",
            &[("cpu", &cpu)],
            3.6e9,
        );
        h.constant(
            "node_cpu_scaling_frequency_min_hertz",
            &[("cpu", &cpu)],
            8e8,
        );
    }
    let l = ncpu as f64 * load;
    h.gauge("node_load1", &[], l, 0.08, 100.0);
    h.gauge("node_load5", &[], l, 0.03, 100.0);
    h.gauge("node_load15", &[], l, 0.01, 100.0);
    h.counter(
        "node_context_switches_total",
        &[],
        4000.0 * ncpu as f64 * load,
        1.0,
    );
    h.counter("node_intr_total", &[], 2500.0 * ncpu as f64 * load, 1.0);
    h.counter("node_forks_total", &[], 12.0 * load, 1.0);
    h.gauge("node_procs_running", &[], 1.0 + l, 0.3, 1.0);
    h.gauge("node_procs_blocked", &[], 0.3, 0.5, 1.0);
    for (res, mean) in [("cpu", 0.02), ("io", 0.01), ("memory", 0.001)] {
        h.counter(
            &format!("node_pressure_{res}_waiting_seconds_total"),
            &[],
            mean * load,
            1e6,
        );
    }
    h.counter(
        "node_pressure_io_stalled_seconds_total",
        &[],
        0.005 * load,
        1e6,
    );
    h.counter(
        "node_pressure_memory_stalled_seconds_total",
        &[],
        0.0005 * load,
        1e6,
    );

    // Memory.
    let m = mem_total;
    h.constant("node_memory_MemTotal_bytes", &[], m);
    h.bounded(
        "node_memory_MemFree_bytes",
        &[],
        m * 0.2 * (1.0 - load),
        0.01,
        page,
        m,
    );
    h.bounded(
        "node_memory_MemAvailable_bytes",
        &[],
        m * (0.8 - 0.5 * load),
        0.005,
        page,
        m,
    );
    h.bounded("node_memory_Buffers_bytes", &[], m * 0.02, 0.002, page, m);
    h.bounded("node_memory_Cached_bytes", &[], m * 0.35, 0.004, page, m);
    h.constant(
        "node_memory_SwapTotal_bytes",
        &[],
        2.0 * 1024.0 * 1024.0 * 1024.0,
    );
    h.bounded(
        "node_memory_SwapFree_bytes",
        &[],
        1.9 * 1024.0 * 1024.0 * 1024.0,
        0.0005,
        page,
        2.0 * 1024.0 * 1024.0 * 1024.0,
    );
    for (name, share, jitter) in [
        ("Active", 0.3, 0.004),
        ("Inactive", 0.25, 0.004),
        ("Active_anon", 0.15, 0.006),
        ("Inactive_anon", 0.05, 0.002),
        ("Active_file", 0.15, 0.004),
        ("Inactive_file", 0.2, 0.004),
        ("Dirty", 0.0005, 0.2),
        ("Writeback", 0.00001, 0.5),
        ("Slab", 0.03, 0.002),
        ("SReclaimable", 0.02, 0.002),
        ("SUnreclaim", 0.01, 0.001),
        ("Shmem", 0.01, 0.001),
        ("Mapped", 0.04, 0.003),
        ("AnonPages", 0.18, 0.006),
        ("PageTables", 0.004, 0.003),
        ("Committed_AS", 0.6, 0.004),
        ("KernelStack", 0.0008, 0.002),
        ("VmallocUsed", 0.002, 0.0005),
    ] {
        h.bounded(
            &format!("node_memory_{name}_bytes"),
            &[],
            m * share * (0.5 + load),
            jitter,
            page,
            m,
        );
    }
    h.constant("node_memory_HugePages_Total", &[], 0.0);
    h.constant("node_memory_Hugepagesize_bytes", &[], 2097152.0);
    for (name, rate) in [
        ("pgfault", 3000.0),
        ("pgmajfault", 2.0),
        ("pgpgin", 400.0),
        ("pgpgout", 900.0),
        ("pswpin", 0.01),
        ("pswpout", 0.02),
    ] {
        h.counter(&format!("node_vmstat_{name}"), &[], rate * load, 1.0);
    }
    h.rare("node_vmstat_oom_kill", &[], 1.0, 0.0002);

    // Disks.
    let mut disks = vec!["nvme0n1", "sda"];
    if ncpu >= 16 {
        disks.push("nvme1n1");
    }
    for d in &disks {
        let dev = [("device", *d)];
        let io = if d.starts_with("nvme") { 3.0 } else { 0.5 } * load;
        h.counter("node_disk_read_bytes_total", &dev, 2.0e6 * io, 1.0 / 512.0);
        h.counter(
            "node_disk_written_bytes_total",
            &dev,
            5.0e6 * io,
            1.0 / 512.0,
        );
        h.counter("node_disk_reads_completed_total", &dev, 40.0 * io, 1.0);
        h.counter("node_disk_writes_completed_total", &dev, 120.0 * io, 1.0);
        h.counter("node_disk_reads_merged_total", &dev, 3.0 * io, 1.0);
        h.counter("node_disk_writes_merged_total", &dev, 30.0 * io, 1.0);
        h.counter("node_disk_read_time_seconds_total", &dev, 0.01 * io, 1000.0);
        h.counter(
            "node_disk_write_time_seconds_total",
            &dev,
            0.05 * io,
            1000.0,
        );
        h.counter("node_disk_io_time_seconds_total", &dev, 0.04 * io, 1000.0);
        h.counter(
            "node_disk_io_time_weighted_seconds_total",
            &dev,
            0.07 * io,
            1000.0,
        );
        h.gauge("node_disk_io_now", &dev, 0.2 * io, 1.0, 1.0);
        h.counter("node_disk_discards_completed_total", &dev, 0.05 * io, 1.0);
        h.counter("node_disk_discarded_sectors_total", &dev, 2000.0 * io, 1.0);
        h.counter("node_disk_flush_requests_total", &dev, 2.0 * io, 1.0);
    }

    // Filesystems.
    let fs = [
        ("/dev/nvme0n1p2", "ext4", "/", 200.0, 0.45),
        ("/dev/nvme0n1p1", "vfat", "/boot/efi", 0.5, 0.01),
        ("/dev/sda1", "xfs", "/var/lib/docker", 500.0, 0.6),
        ("tmpfs", "tmpfs", "/run", mem_total / 1e9 * 0.1, 0.002),
        ("tmpfs", "tmpfs", "/dev/shm", mem_total / 1e9 * 0.5, 0.0001),
    ];
    for (device, fstype, mountpoint, gb, used) in fs {
        let lbl = [
            ("device", device),
            ("fstype", fstype),
            ("mountpoint", mountpoint),
        ];
        let size = (gb * 1e9 / 4096.0).round() * 4096.0;
        let free = size * (1.0 - used);
        h.constant("node_filesystem_size_bytes", &lbl, size);
        h.bounded("node_filesystem_free_bytes", &lbl, free, 0.0005, page, size);
        h.bounded(
            "node_filesystem_avail_bytes",
            &lbl,
            free * 0.95,
            0.0005,
            page,
            size,
        );
        let files = (size / 16384.0).round();
        h.constant("node_filesystem_files", &lbl, files);
        h.bounded(
            "node_filesystem_files_free",
            &lbl,
            files * (1.0 - used * 0.3),
            0.0002,
            1.0,
            files,
        );
        h.constant("node_filesystem_readonly", &lbl, 0.0);
        h.constant("node_filesystem_device_error", &lbl, 0.0);
    }

    // Network.
    let mut nics = vec![("eth0", 1.25e8, 1.0), ("lo", 0.0, 0.3)];
    if idx.is_multiple_of(3) {
        nics.push(("eth1", 1.25e9, 0.4));
    }
    if idx.is_multiple_of(2) {
        nics.push(("docker0", 0.0, 0.1));
    }
    for (d, speed, share) in nics {
        let dev = [("device", d)];
        let bps = 4.0e6 * load * share;
        h.counter("node_network_receive_bytes_total", &dev, bps, 1.0);
        h.counter("node_network_transmit_bytes_total", &dev, bps * 0.6, 1.0);
        h.counter("node_network_receive_packets_total", &dev, bps / 900.0, 1.0);
        h.counter(
            "node_network_transmit_packets_total",
            &dev,
            bps / 1100.0,
            1.0,
        );
        h.rare("node_network_receive_errs_total", &dev, 1.0, 0.001);
        h.rare("node_network_transmit_errs_total", &dev, 1.0, 0.0005);
        h.rare("node_network_receive_drop_total", &dev, 2.0, 0.01);
        h.rare("node_network_transmit_drop_total", &dev, 1.0, 0.001);
        h.counter(
            "node_network_receive_multicast_total",
            &dev,
            0.3 * share,
            1.0,
        );
        for n in [
            "node_network_receive_compressed_total",
            "node_network_transmit_compressed_total",
            "node_network_receive_fifo_total",
            "node_network_transmit_fifo_total",
            "node_network_receive_frame_total",
            "node_network_transmit_carrier_total",
            "node_network_transmit_colls_total",
        ] {
            h.constant(n, &dev, 0.0);
        }
        h.constant("node_network_up", &dev, 1.0);
        h.constant("node_network_carrier", &dev, 1.0);
        h.constant(
            "node_network_mtu_bytes",
            &dev,
            if d == "lo" { 65536.0 } else { 1500.0 },
        );
        if speed > 0.0 {
            h.constant("node_network_speed_bytes", &dev, speed);
        }
        h.constant("node_network_transmit_queue_length", &dev, 1000.0);
    }

    // Netstat and sockets.
    for (name, rate) in [
        ("Tcp_ActiveOpens", 3.0),
        ("Tcp_PassiveOpens", 5.0),
        ("Tcp_RetransSegs", 0.8),
        ("Tcp_InSegs", 900.0),
        ("Tcp_OutSegs", 850.0),
        ("Udp_InDatagrams", 40.0),
        ("Udp_OutDatagrams", 42.0),
        ("Icmp_InMsgs", 0.2),
        ("Icmp_OutMsgs", 0.2),
        ("IpExt_InOctets", 4.0e6),
        ("IpExt_OutOctets", 2.4e6),
    ] {
        h.counter(&format!("node_netstat_{name}"), &[], rate * load, 1.0);
    }
    h.rare("node_netstat_Tcp_InErrs", &[], 1.0, 0.002);
    h.rare("node_netstat_Udp_InErrors", &[], 1.0, 0.001);
    h.rare("node_netstat_TcpExt_ListenDrops", &[], 1.0, 0.0005);
    h.rare("node_netstat_TcpExt_ListenOverflows", &[], 1.0, 0.0005);
    h.gauge("node_netstat_Tcp_CurrEstab", &[], 200.0 * load, 0.05, 1.0);
    h.gauge("node_sockstat_TCP_inuse", &[], 220.0 * load, 0.05, 1.0);
    h.gauge("node_sockstat_TCP_tw", &[], 80.0 * load, 0.2, 1.0);
    h.gauge("node_sockstat_TCP_alloc", &[], 240.0 * load, 0.05, 1.0);
    h.gauge("node_sockstat_TCP_mem_bytes", &[], 4.0e5 * load, 0.1, page);
    h.gauge("node_sockstat_UDP_inuse", &[], 12.0, 0.02, 1.0);
    h.gauge("node_sockstat_sockets_used", &[], 900.0 * load, 0.03, 1.0);
    h.gauge("node_nf_conntrack_entries", &[], 3000.0 * load, 0.05, 1.0);
    h.constant("node_nf_conntrack_entries_limit", &[], 262144.0);

    // Hardware and time.
    for s in 0..(ncpu / 2).clamp(1, 8) {
        let sensor = format!("temp{}", s + 1);
        h.bounded(
            "node_hwmon_temp_celsius",
            &[("chip", "platform_coretemp_0"), ("sensor", &sensor)],
            40.0 + 25.0 * load,
            0.02,
            1.0,
            105.0,
        );
        h.constant(
            "node_hwmon_temp_crit_celsius",
            &[("chip", "platform_coretemp_0"), ("sensor", &sensor)],
            100.0,
        );
    }
    h.bounded(
        "node_hwmon_temp_celsius",
        &[("chip", "nvme_nvme0"), ("sensor", "temp1")],
        38.0 + 10.0 * load,
        0.01,
        8.0,
        90.0,
    );
    h.gauge("node_entropy_available_bits", &[], 256.0, 0.0, 1.0);
    h.gauge(
        "node_filefd_allocated",
        &[],
        4000.0 * (0.5 + load),
        0.02,
        1.0,
    );
    h.constant("node_filefd_maximum", &[], 9.223372036854776e18);
    h.constant("node_boot_time_seconds", &[], boot);
    h.push("node_time_seconds", &[], Model::Clock);
    h.push(
        "node_timex_offset_seconds",
        &[],
        Model::Noisy {
            mean: 3e-5,
            spread: 2.0,
        },
    );
    h.push(
        "node_timex_maxerror_seconds",
        &[],
        Model::Noisy {
            mean: 0.2,
            spread: 1.0,
        },
    );
    h.constant("node_timex_sync_status", &[], 1.0);
    h.constant(
        "node_uname_info",
        &[
            ("machine", "x86_64"),
            ("nodename", &format!("node-{idx:04}")),
            ("release", "6.1.0-18-amd64"),
            ("sysname", "Linux"),
        ],
        1.0,
    );
    h.constant(
        "node_os_info",
        &[
            ("id", "debian"),
            ("name", "Debian GNU/Linux"),
            ("version_id", "12"),
        ],
        1.0,
    );
    h.constant(
        "node_exporter_build_info",
        &[("goversion", "go1.19.8"), ("version", "1.5.0")],
        1.0,
    );
    h.constant("node_textfile_scrape_error", &[], 0.0);
    for c in COLLECTORS {
        h.push(
            "node_scrape_collector_duration_seconds",
            &[("collector", c)],
            Model::Noisy {
                mean: 0.0004,
                spread: 2.0,
            },
        );
        h.constant("node_scrape_collector_success", &[("collector", c)], 1.0);
    }

    // The exporter process itself.
    h.counter("process_cpu_seconds_total", &[], 0.004, 100.0);
    h.gauge("process_resident_memory_bytes", &[], 2.2e7, 0.01, page);
    h.gauge("process_virtual_memory_bytes", &[], 7.3e8, 0.001, page);
    h.gauge("process_open_fds", &[], 9.0, 0.1, 1.0);
    h.constant("process_max_fds", &[], 1048576.0);
    h.constant("process_start_time_seconds", &[], boot + 21.37);
    h.gauge("go_goroutines", &[], 8.0, 0.1, 1.0);
    h.gauge("go_threads", &[], 9.0, 0.02, 1.0);
    h.gauge("go_memstats_alloc_bytes", &[], 3.1e6, 0.1, 8.0);
    h.counter("go_memstats_alloc_bytes_total", &[], 9.0e4, 1.0);
    h.gauge("go_memstats_heap_inuse_bytes", &[], 4.5e6, 0.05, page);
    for q in ["0", "0.25", "0.5", "0.75", "1"] {
        let qf: f64 = q.parse().unwrap_or(0.5);
        h.push(
            "go_gc_duration_seconds",
            &[("quantile", q)],
            Model::Noisy {
                mean: 2e-5 * (1.0 + 4.0 * qf),
                spread: 1.0,
            },
        );
    }
    h.counter("go_gc_duration_seconds_sum", &[], 4e-6, 1e9);
    h.counter("go_gc_duration_seconds_count", &[], 0.1, 1.0);
    for code in ["200", "500", "503"] {
        let rate = if code == "200" { 1.0 / 15.0 } else { 0.0 };
        h.push(
            "promhttp_metric_handler_requests_total",
            &[("code", code)],
            Model::Counter {
                per_sec: rate,
                scale: 1.0,
                p: if rate > 0.0 { 1.0 } else { 0.0 },
            },
        );
    }
    // A classic histogram of the exporter's own HTTP handler (as promhttp exposes), so the
    // query benchmark has buckets for histogram_quantile.
    let per_sec = 1.0 / 15.0;
    for (le, share) in HTTP_BUCKETS {
        h.push(
            "http_request_duration_seconds_bucket",
            &[("handler", "/metrics"), ("le", le)],
            Model::Counter {
                per_sec: per_sec * share,
                scale: 1.0,
                p: 1.0,
            },
        );
    }
    h.counter(
        "http_request_duration_seconds_count",
        &[("handler", "/metrics")],
        per_sec,
        1.0,
    );
    h.counter(
        "http_request_duration_seconds_sum",
        &[("handler", "/metrics")],
        per_sec * 0.03,
        1000.0,
    );
    h.constant("up", &[], 1.0);
    h.push(
        "scrape_duration_seconds",
        &[],
        Model::Noisy {
            mean: 0.03,
            spread: 1.0,
        },
    );
    let n_host = h.out.len() as f64;
    h.gauge("scrape_samples_scraped", &[], n_host, 0.0, 1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_plausible() {
        let a = build_series(2000, 7, 1_700_000_000_000);
        let b = build_series(2000, 7, 1_700_000_000_000);
        assert_eq!(a.len(), 2000);
        let names: std::collections::BTreeSet<&str> =
            a.iter().map(|s| s.labels.metric_name()).collect();
        assert!(names.len() >= 100, "{} metric names", names.len());
        let mut distinct = std::collections::BTreeSet::new();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.labels, y.labels);
            assert!(
                distinct.insert(x.labels.clone()),
                "duplicate series {:?}",
                x.labels
            );
            let (mut sx, mut sy) = (x.state(), y.state());
            let mut prev = f64::MIN;
            for k in 0..50 {
                let t = 1_700_000_000_000 + k * 15_000;
                let (vx, vy) = (x.next(&mut sx, t, 15.0), y.next(&mut sy, t, 15.0));
                assert_eq!(vx.to_bits(), vy.to_bits());
                assert!(vx.is_finite());
                if matches!(x.model, Model::Counter { .. }) {
                    assert!(vx >= prev, "{:?} went down", x.labels);
                    prev = vx;
                }
            }
        }
    }
}
