package org.livepatch.xenbuild;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.livepatch.xenbuild.CTokens.Kind;
import org.livepatch.xenbuild.CTokens.Token;

/**
 * A top-level {@code asm(".equ NAME, NUMBER")}: Xen's {@code asm/cpufeatureset.h} emits one per CPU
 * feature so that assembly can use the names. Assembled with {@code --strip-local-absolute},
 * such a local symbol with a number for its value leaves nothing in the object; a changeset that
 * adds a feature adds one to every unit. Anything but plain literals of exactly that shape gives
 * no answer.
 */
final class AbsoluteSymbol {
    private static final Pattern EQU = Pattern.compile("\\s*\\.(?:equ|set)\\s+([A-Za-z_$][A-Za-z0-9_$]*)\\s*,\\s*(.+?)\\s*;?\\s*");
    /** Numbers, then what may stand between them: nothing that could name a symbol or a label (1f, 2b). */
    private static final Pattern NUMBER = Pattern.compile("0[xX][0-9a-fA-F]+|[0-9]+");
    private static final Pattern OPERATORS = Pattern.compile("[\\s()*+\\-/<>~|&^]*");

    private AbsoluteSymbol() {}

    /** The name the asm statement's operand (the tokens inside its parentheses) defines, if it is of that shape. */
    static Optional<String> defined(List<Token> operand) {
        StringBuilder text = new StringBuilder();
        for (Token k : operand) {
            String s = k.text();
            if (k.kind() != Kind.STRING || !s.startsWith("\"") || s.indexOf('\\') >= 0) {
                return Optional.empty();
            }
            text.append(s, 1, s.length() - 1);
        }
        Matcher m = EQU.matcher(text);
        if (!m.matches() || !OPERATORS.matcher(NUMBER.matcher(m.group(2)).replaceAll(" ")).matches()) {
            return Optional.empty();
        }
        return Optional.of(m.group(1));
    }
}
