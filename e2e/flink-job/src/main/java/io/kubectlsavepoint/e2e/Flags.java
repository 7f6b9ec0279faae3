package io.kubectlsavepoint.e2e;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line flags of the form {@code --name value} and bare {@code --switch}.
 *
 * <p>Kept deliberately small: the only callers are the Go harness and the REST
 * {@code /jars/{id}/run} endpoint, both of which pass well-formed arguments. A flag named in
 * {@code switches} takes no value; {@code --set} may repeat.
 */
final class Flags {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> settings = new ArrayList<>();

    private Flags() {}

    static Flags parse(String[] args, Set<String> known, Set<String> switches) {
        Flags flags = new Flags();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + arg);
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!known.contains(name) && !switches.contains(name)) {
                throw new IllegalArgumentException("unknown flag --" + name);
            }
            if (switches.contains(name)) {
                flags.values.put(name, value == null ? "true" : value);
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("flag --" + name + " needs a value");
                }
                value = args[++i];
            }
            if (name.equals("set")) {
                flags.settings.add(value);
            } else {
                flags.values.put(name, value);
            }
        }
        return flags;
    }

    String get(String name) {
        String value = values.get(name);
        return value == null || value.isEmpty() ? null : value;
    }

    String get(String name, String fallback) {
        String value = get(name);
        return value == null ? fallback : value;
    }

    int getInt(String name, int fallback) {
        String value = get(name);
        return value == null ? fallback : Integer.parseInt(value);
    }

    boolean isSet(String name) {
        return Boolean.parseBoolean(values.getOrDefault(name, "false"));
    }

    /** The {@code key=value} pairs of every {@code --set}, in order. */
    List<String> settings() {
        return settings;
    }
}
