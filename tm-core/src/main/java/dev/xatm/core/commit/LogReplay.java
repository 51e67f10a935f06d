package dev.xatm.core.commit;

import dev.xatm.core.LogRecord;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Durable log records folded into what each gtrid needs: its first Decision and PreCommit, whether it
 * was Aborted, its latest Heuristics, and whether it is still open or completed. Shared by a restart
 * ({@link Coordinator#restore}) and a takeover ({@link dev.xatm.core.Event.Adopted}), which must rebuild
 * exactly the same state from the same records. Pure; insertion order is kept, so the order of the
 * messages that follow is reproducible.
 */
final class LogReplay {
    // The first copy of a record wins: a repeated one must not replace what phase 2 started from.
    final Map<String, LogRecord.Decision> decisions = new LinkedHashMap<>();
    final Map<String, LogRecord.PreCommit> preCommits = new LinkedHashMap<>();
    final Set<String> aborted = new LinkedHashSet<>();
    final Map<String, LogRecord.Heuristics> heuristics = new LinkedHashMap<>();
    final Set<String> open = new LinkedHashSet<>();
    final Set<String> completed = new LinkedHashSet<>();

    static LogReplay of(Iterable<LogRecord> records) {
        LogReplay replay = new LogReplay();
        for (LogRecord r : records) {
            replay.add(r);
        }
        return replay;
    }

    private void add(LogRecord r) {
        if (r instanceof LogRecord.Decision d) {
            decisions.putIfAbsent(d.gtrid(), d);
            open.add(d.gtrid());
        } else if (r instanceof LogRecord.PreCommit p) {
            preCommits.putIfAbsent(p.gtrid(), p);
            open.add(p.gtrid());
        } else if (r instanceof LogRecord.Aborted a) {
            aborted.add(a.gtrid());
        } else if (r instanceof LogRecord.Heuristics h) {
            heuristics.put(h.gtrid(), h); // the latest lists every heuristic branch so far
            open.add(h.gtrid());
        } else if (r instanceof LogRecord.Completed done) {
            open.remove(done.gtrid());
            completed.remove(done.gtrid()); // re-added last: FIFO memory keeps the newest
            completed.add(done.gtrid());
        }
    }
}
