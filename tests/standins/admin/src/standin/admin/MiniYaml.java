// admin.jar: metis-deploy STAND-IN for datum-admin (tests and lab only; not the real admin).
package standin.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The YAML subset Spring's application-*.yml uses in metis-deploy's rendering: nested block maps,
 * block lists (flattened Spring-style to key[0], key[1]...), double-quoted (JSON escapes),
 * single-quoted and plain scalars, comments. Returns the flattened, dotted keys.
 */
final class MiniYaml {
    static final class YamlException extends Exception {
        private static final long serialVersionUID = 1L;

        YamlException(int line, String msg) {
            super("line " + line + ": " + msg);
        }
    }

    private record Line(int no, int indent, String text) {}

    private MiniYaml() {}

    static Map<String, String> parse(String doc) throws YamlException {
        List<Line> lines = new ArrayList<>();
        String[] raw = doc.split("\r?\n", -1);
        for (int i = 0; i < raw.length; i++) {
            String l = stripComment(raw[i]);
            if (l.isBlank() || l.strip().equals("---")) {
                continue;
            }
            int ind = 0;
            while (ind < l.length() && l.charAt(ind) == ' ') {
                ind++;
            }
            if (ind < l.length() && l.charAt(ind) == '\t') {
                throw new YamlException(i + 1, "tab in indentation");
            }
            lines.add(new Line(i + 1, ind, l.strip()));
        }
        Map<String, String> out = new LinkedHashMap<>();
        int[] pos = {0};
        if (!lines.isEmpty()) {
            block(lines, pos, lines.get(0).indent(), "", out);
            if (pos[0] != lines.size()) {
                throw new YamlException(lines.get(pos[0]).no(), "unexpected indentation");
            }
        }
        return out;
    }

    private static void block(List<Line> lines, int[] pos, int indent, String prefix, Map<String, String> out)
            throws YamlException {
        int index = 0;
        while (pos[0] < lines.size()) {
            Line l = lines.get(pos[0]);
            if (l.indent() < indent) {
                return;
            }
            if (l.indent() > indent) {
                throw new YamlException(l.no(), "unexpected indentation");
            }
            String t = l.text();
            if (t.equals("-") || t.startsWith("- ")) {
                String item = t.substring(1).strip();
                String key = prefix + "[" + index++ + "]";
                pos[0]++;
                if (item.isEmpty()) {
                    if (pos[0] < lines.size() && lines.get(pos[0]).indent() > indent) {
                        block(lines, pos, lines.get(pos[0]).indent(), key + ".", out);
                    }
                } else {
                    out.put(key, scalar(item, l.no()));
                }
                continue;
            }
            int colon = keyEnd(t, l.no());
            String key = unquoteKey(t.substring(0, colon).strip(), l.no());
            String rest = t.substring(colon + 1).strip();
            String full = prefix + key;
            pos[0]++;
            if (!rest.isEmpty()) {
                out.put(full, scalar(rest, l.no()));
            } else if (pos[0] < lines.size()
                    && (lines.get(pos[0]).indent() > indent
                        || (lines.get(pos[0]).indent() == indent && lines.get(pos[0]).text().startsWith("- ")))) {
                int inner = lines.get(pos[0]).indent();
                if (lines.get(pos[0]).text().startsWith("- ")) {
                    blockList(lines, pos, inner, full, out);
                } else {
                    block(lines, pos, inner, full + ".", out);
                }
            } else {
                out.put(full, "");
            }
        }
    }

    private static void blockList(List<Line> lines, int[] pos, int indent, String key, Map<String, String> out)
            throws YamlException {
        int index = 0;
        while (pos[0] < lines.size()) {
            Line l = lines.get(pos[0]);
            if (l.indent() != indent || !(l.text().startsWith("- ") || l.text().equals("-"))) {
                return;
            }
            out.put(key + "[" + index++ + "]", scalar(l.text().substring(1).strip(), l.no()));
            pos[0]++;
        }
    }

    private static int keyEnd(String t, int no) throws YamlException {
        if (t.startsWith("\"")) {
            int end = closingQuote(t, no);
            if (end + 1 < t.length() && t.charAt(end + 1) == ':') {
                return end + 1;
            }
            throw new YamlException(no, "expected ':' after a quoted key");
        }
        for (int i = 0; i < t.length(); i++) {
            if (t.charAt(i) == ':' && (i + 1 == t.length() || t.charAt(i + 1) == ' ')) {
                return i;
            }
        }
        throw new YamlException(no, "expected 'key: value', got '" + t + "'");
    }

    private static String unquoteKey(String k, int no) throws YamlException {
        return k.startsWith("\"") || k.startsWith("'") ? scalar(k, no) : k;
    }

    private static int closingQuote(String t, int no) throws YamlException {
        for (int i = 1; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        throw new YamlException(no, "unterminated double-quoted string");
    }

    static String scalar(String t, int no) throws YamlException {
        if (t.startsWith("\"")) {
            int end = closingQuote(t, no);
            if (!t.substring(end + 1).isBlank()) {
                throw new YamlException(no, "text after a quoted string");
            }
            return unescape(t.substring(1, end), no);
        }
        if (t.startsWith("'")) {
            if (t.length() < 2 || !t.endsWith("'")) {
                throw new YamlException(no, "unterminated single-quoted string");
            }
            return t.substring(1, t.length() - 1).replace("''", "'");
        }
        if (t.equals("~") || t.equals("null")) {
            return "";
        }
        return t;
    }

    private static String unescape(String s, int no) throws YamlException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (++i >= s.length()) {
                throw new YamlException(no, "dangling backslash");
            }
            char e = s.charAt(i);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case '0' -> b.append('\0');
                case 'u' -> {
                    if (i + 4 >= s.length()) {
                        throw new YamlException(no, "short \\u escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    } catch (NumberFormatException x) {
                        throw new YamlException(no, "bad \\u escape");
                    }
                    i += 4;
                }
                default -> throw new YamlException(no, "unknown escape \\" + e);
            }
        }
        return b.toString();
    }

    private static String stripComment(String l) {
        char quote = 0;
        for (int i = 0; i < l.length(); i++) {
            char c = l.charAt(i);
            if (quote == '"') {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quote = 0;
                }
            } else if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '#' && (i == 0 || l.charAt(i - 1) == ' ')) {
                return l.substring(0, i);
            }
        }
        return l;
    }
}
