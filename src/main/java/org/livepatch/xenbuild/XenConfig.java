package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A Xen {@code .config} (Kconfig output): {@code CONFIG_X=value} lines, "# CONFIG_X is not set"
 * comments. Only read here; the file is copied into the scratch tree, never edited in place.
 */
public record XenConfig(Path file, byte[] content, Map<String, String> values) {

    public XenConfig {
        content = content.clone();
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static XenConfig read(Path file) throws BuildException {
        if (file == null) {
            throw new BuildException(BuildException.Reason.BAD_CONFIG, null, ".config not given (--config)");
        }
        if (!Files.isRegularFile(file)) {
            throw new BuildException(BuildException.Reason.BAD_CONFIG, file, "config file does not exist");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_CONFIG, file, "cannot read config: " + e.getMessage(), e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            String l = line.strip();
            if (l.startsWith("CONFIG_")) {
                int eq = l.indexOf('=');
                if (eq > 0) {
                    values.put(l.substring(0, eq), l.substring(eq + 1));
                }
            }
        }
        return new XenConfig(file, bytes, values);
    }

    public Optional<String> value(String option) {
        return Optional.ofNullable(values.get(option));
    }

    public boolean isEnabled(String option) {
        return "y".equals(values.get(option));
    }

    /** Whether the config mentions the option at all, set or as "# CONFIG_X is not set". */
    public boolean mentions(String option) {
        return values.containsKey(option)
                || new String(content, StandardCharsets.UTF_8).contains("# " + option + " is not set");
    }

    /**
     * Without CONFIG_LIVEPATCH the hypervisor has no loader and, in 4.17, CC_SPLIT_SECTIONS is not
     * selected either (xen/common/Kconfig: LIVEPATCH selects it), so objects would not have one
     * section per function and nothing could be diffed. Upstream greps for the same literal line.
     */
    public void requireLivepatch() throws BuildException {
        if (!isEnabled("CONFIG_LIVEPATCH")) {
            throw new BuildException(BuildException.Reason.CONFIG_NO_LIVEPATCH, file,
                    "CONFIG_LIVEPATCH must be enabled (CONFIG_LIVEPATCH=y)");
        }
    }

    @Override
    public byte[] content() {
        return content.clone();
    }
}
