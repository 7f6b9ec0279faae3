package io.kubectlsavepoint.e2e;

import java.util.Set;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * The stateful streaming job every end-to-end test savepoints: an unbounded, rate-limited
 * DataGen source, keyed by {@code value % 16}, counted per key in a {@link ValueState}, and
 * discarded.
 *
 * <p>Every operator has a fixed {@code uid} so that a savepoint taken from one run restores
 * into the next; {@code --variant dropped-counter} replaces the counter with a stateless map
 * under a new uid, which gives tests a job whose savepoint state does not map (restoring it
 * needs {@code allowNonRestoredState}).
 *
 * <p>Run directly by {@link SessionCluster}, or uploaded through {@code POST /jars/upload}
 * and started with {@code POST /jars/{id}/run} and {@code entryClass} set to this class,
 * {@code programArgsList} {@code ["--job-name", "..."]}.
 */
public final class StatefulJob {
    /** The job's name when {@code --job-name} is absent. */
    public static final String DEFAULT_NAME = "stateful-job";

    static final String SOURCE_UID = "datagen-source";
    static final String COUNTER_UID = "per-key-counter";
    static final String SINK_UID = "discarding-sink";

    private static final Set<String> FLAGS = Set.of("job-name", "rate", "parallelism", "variant");

    private StatefulJob() {}

    public static void main(String[] args) throws Exception {
        Flags flags = Flags.parse(args, FLAGS, Set.of());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        int parallelism = flags.getInt("parallelism", 0);
        if (parallelism > 0) {
            env.setParallelism(parallelism);
        }
        define(env, Double.parseDouble(flags.get("rate", "50")), flags.get("variant", ""));
        env.execute(flags.get("job-name", DEFAULT_NAME));
    }

    /**
     * Adds the pipeline to {@code env}.
     *
     * @param recordsPerSecond the source's rate over all its subtasks
     * @param variant "" for the normal job, "dropped-counter" for one without the counter state
     */
    static void define(StreamExecutionEnvironment env, double recordsPerSecond, String variant) {
        DataGeneratorSource<Long> source =
                new DataGeneratorSource<>(
                        index -> index,
                        Long.MAX_VALUE,
                        RateLimiterStrategy.perSecond(recordsPerSecond),
                        Types.LONG);
        var keyed =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "datagen")
                        .uid(SOURCE_UID)
                        .keyBy(value -> value % 16, Types.LONG);
        var counted =
                "dropped-counter".equals(variant)
                        ? keyed.map(value -> value)
                                .returns(Types.LONG)
                                .uid("stateless-map")
                                .name("stateless-map")
                        : keyed.process(new PerKeyCounter()).uid(COUNTER_UID).name("per-key-counter");
        counted.sinkTo(new DiscardingSink<>()).uid(SINK_UID).name("discard");
    }

    /**
     * Counts the records seen per key; the state a savepoint must carry. The gauge {@code
     * maxCount} (the highest count of any key this subtask saw) shows from outside whether a
     * restored job continued its state: a fresh job's counts start again at 1.
     */
    static final class PerKeyCounter extends KeyedProcessFunction<Long, Long, Long> {
        private transient ValueState<Long> count;
        private transient volatile long maxCount;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
            getRuntimeContext().getMetricGroup().gauge("maxCount", (Gauge<Long>) () -> maxCount);
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<Long> out) throws Exception {
            Long seen = count.value();
            long next = seen == null ? 1 : seen + 1;
            count.update(next);
            if (next > maxCount) {
                maxCount = next;
            }
            out.collect(next);
        }
    }
}
