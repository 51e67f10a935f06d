package dev.xatm.bench.measure;

import com.sun.tools.attach.VirtualMachine;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;

/**
 * Heap of a JVM, this one or another process (through the attach API and the local JMX agent it
 * starts, so tm-server needs no JMX port or flag). Also starts and dumps a JFR recording there
 * through the DiagnosticCommand MBean, the same commands as {@code jcmd JFR.start / JFR.stop}.
 */
public final class JvmProbe implements AutoCloseable {
    private final JMXConnector connector;
    private final MBeanServerConnection mbeans;
    private final MemoryMXBean memory;
    private final List<MemoryPoolMXBean> pools;

    private JvmProbe(JMXConnector connector, MBeanServerConnection mbeans) throws Exception {
        this.connector = connector;
        this.mbeans = mbeans;
        this.memory = mbeans == null ? ManagementFactory.getMemoryMXBean()
                : ManagementFactory.newPlatformMXBeanProxy(mbeans, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        this.pools = (mbeans == null ? ManagementFactory.getPlatformMXBeans(MemoryPoolMXBean.class)
                : ManagementFactory.getPlatformMXBeans(mbeans, MemoryPoolMXBean.class))
                .stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
    }

    public static JvmProbe self() throws Exception {
        return new JvmProbe(null, null);
    }

    public static JvmProbe attach(long pid) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        try {
            String address = vm.startLocalManagementAgent();
            JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(address));
            return new JvmProbe(c, c.getMBeanServerConnection());
        } finally {
            vm.detach();
        }
    }

    /** Heap in use now, bytes. */
    public long heapUsed() {
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** Heap committed now, bytes. */
    public long heapCommitted() {
        return memory.getHeapMemoryUsage().getCommitted();
    }

    /** Heap left after the most recent collection of each heap pool, summed: the live set, roughly. */
    public long heapAfterLastGc() {
        long sum = 0;
        for (MemoryPoolMXBean p : pools) {
            MemoryUsage u = p.getCollectionUsage();
            if (u != null) {
                sum += u.getUsed();
            }
        }
        return sum;
    }

    /** jcmd PID JFR.start (remote JVM only). */
    public void jfrStart(String name) throws Exception {
        dcmd("jfrStart", "name=" + name, "settings=profile");
    }

    /** jcmd PID JFR.stop, writing the recording to {@code file} (remote JVM only). */
    public void jfrStop(String name, String file) throws Exception {
        dcmd("jfrStop", "name=" + name, "filename=" + file);
    }

    private void dcmd(String op, String... args) throws Exception {
        if (mbeans == null) {
            throw new IllegalStateException("use jdk.jfr.Recording in this JVM");
        }
        mbeans.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), op, new Object[] {args},
                new String[] {String[].class.getName()});
    }

    @Override
    public void close() throws Exception {
        if (connector != null) {
            connector.close();
        }
    }
}
