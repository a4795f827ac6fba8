"""Java: the tests call the program's static methods in a JVM of their own, and get values back as data.

The tests' JVM never loads a class of the program. `proxy` turns each top-level class of the
program into a nested class of `PROXY_CLASS` of the same name, whose static methods send their
arguments to the program's JVM (`SERVE_CLASS`, over the descriptors jobs.py gives each side)
and return what comes back; `to_proxies` points the tests' references to those classes.
Values cross as data (`CODEC_CLASS`): null, boxed primitives, strings, big numbers, lists,
maps, sets, optionals, javatuples and arrays of primitives or strings; the tests' side builds
them from JDK and javatuples classes only, so nothing the program defines runs there. A
method of the program that throws makes the call throw a RuntimeException naming the
exception; one that cannot be found, or returns anything else, fails the same way.
"""

from __future__ import annotations

import re

from .c_like_source import closing, masked

PROXY_CLASS, REMOTE_CLASS, CODEC_CLASS, SERVE_CLASS = "LedexProgram", "LedexRemote", "LedexCodec", "LedexServe"

_MEMBER_END = re.compile(r"[;{}]")
_TYPE_KEYWORD = r"(?:class|interface|enum|record)"
_DECLARATION = re.compile(rf"{_TYPE_KEYWORD}\s+([\w$]+)")
_MODIFIERS = r"(?:@\w+(?:\([^)]*\))?\s+|(?:public|private|protected|static|final|synchronized|strictfp)\s+)*"
_THROWS = r"(?:throws\s+[\w$.,\s]+)?"
_METHOD = re.compile(
    rf"^{_MODIFIERS}(?P<type_parameters><[^()]*>\s*)?(?P<result>[\w$.<>\[\]?, ]+?)\s+(?P<name>[\w$]+)\s*"
    rf"\((?P<parameters>.*)\)\s*{_THROWS}$",
    re.DOTALL,
)
_PARAMETER = re.compile(r"^(?:(?:final|@\w+)\s+)*(?P<type>.+?)\s*(?P<varargs>\.\.\.)?\s*\b[\w$]+$", re.DOTALL)


def top_level_classes(source: str) -> list[str]:
    """The names of the classes, interfaces, enums and records `source` declares at top level."""
    code, depth, names = masked(source), 0, []
    for index, char in enumerate(code):
        if char in "{}":
            depth += 1 if char == "{" else -1
        elif depth == 0 and (index == 0 or not (code[index - 1].isalnum() or code[index - 1] in "_$")):
            declaration = _DECLARATION.match(code, index)
            names += [declaration.group(1)] if declaration else []
    return names


def proxy(program_source: str, imports: str) -> str:
    """The source of `PROXY_CLASS`: for each top-level class of the program, a nested class of
    the same name whose constructors and methods send their calls to the program's JVM."""
    classes = [_proxy_class(name, _member_headers(program_source, name)) for name in top_level_classes(program_source)]
    comment = "// Added by the sandbox: the program's classes, each call a call into the program's own JVM."
    nested = "\n".join(classes)
    return f'{imports}\n{comment}\n@SuppressWarnings("unchecked")\nclass {PROXY_CLASS} {{\n{nested}\n}}\n'


def _proxy_class(name: str, headers: list[str]) -> str:
    """An object of it stands for one the program's JVM made: `ledexHandle` names it there."""
    constructor = re.compile(rf"^{_MODIFIERS}{re.escape(name)}\s*\((?P<parameters>.*)\)\s*{_THROWS}$", re.DOTALL)
    members, constructors = [], []
    for header in headers:
        if made := constructor.match(header):
            constructors.append(_parameters(made.group("parameters")))
        elif (method := _METHOD.match(header)) and not re.search(rf"\b{_TYPE_KEYWORD}\b", header):
            members.append(_proxy_method(name, method, static=bool(re.search(r"\bstatic\b", header))))
    if [] not in constructors:
        constructors.append([])  # so that a subclass (LedexTests) compiles; calling it may still fail
    for parameters in constructors:
        if parameters is not None:
            declared, sent = _signature(parameters)
            construct = f'{REMOTE_CLASS}.construct("{name}", {sent})'
            members.append(f"        {name}({declared}) {{\n            ledexHandle = {construct};\n        }}")
    body = "\n".join(member for member in members if member)
    return f"    static class {name} {{\n        final int ledexHandle;\n{body}\n    }}"


def to_proxies(test_source: str, program_classes: list[str]) -> str:
    """`test_source` with each reference to a class of the program (a whole name, not after a
    dot, outside literals and comments) made a reference to its proxy."""
    if not program_classes:
        return test_source
    reference = re.compile(rf"(?<![\w$.])(?:{'|'.join(map(re.escape, program_classes))})(?![\w$])")
    pieces, position = [], 0
    for match in reference.finditer(masked(test_source)):
        pieces += [test_source[position : match.start()], f"{PROXY_CLASS}.{match.group()}"]
        position = match.end()
    return "".join([*pieces, test_source[position:]])


def _member_headers(source: str, class_name: str) -> list[str]:
    """The headers (modifiers to closing parenthesis) of the members with a body declared directly
    in the body of the class `class_name`: methods, constructors, nested classes, initializers."""
    code, start, end = masked(source), 0, len(source)
    declaration = re.compile(rf"\b{_TYPE_KEYWORD}\s+{re.escape(class_name)}\b[^{{;]*\{{").search(code, start, end)
    if declaration is None:
        return []
    start, end = declaration.end(), closing(code, declaration.end() - 1)
    headers, member_start, index = [], start, start
    while 0 <= index < end:
        member_end = _MEMBER_END.search(code, index, end)
        if member_end is None:
            break
        if member_end.group() == "{":
            headers.append(" ".join(code[member_start : member_end.start()].split()))
            block_end = closing(code, member_end.start())
            index = member_start = block_end + 1 if block_end >= 0 else -1
        else:
            index = member_start = member_end.end()
    return headers


def _proxy_method(class_name: str, method: re.Match, *, static: bool) -> str | None:
    parameters = _parameters(method.group("parameters"))
    if parameters is None:
        return None
    declared, sent = _signature(parameters)
    result, name = method.group("result").strip(), method.group("name")
    target = f"{REMOTE_CLASS}.STATIC" if static else "ledexHandle"
    call = f'{REMOTE_CLASS}.call("{class_name}", {target}, "{name}", {sent})'
    statement = f"{call};" if result == "void" else f"return ({result}) {call};"
    modifiers = " ".join(["static"] * static + [(method.group("type_parameters") or "").strip()])
    return f"        {modifiers} {result} {name}({declared}) {{\n            {statement}\n        }}"


def _signature(parameters: list[tuple[str, bool]]) -> tuple[str, str]:
    """A proxy's parameter list, and what its call sends: the parameters' erased types and the
    arguments, as two Java array expressions."""
    declared = ", ".join(f"{kind}{'...' * varargs} a{index}" for index, (kind, varargs) in enumerate(parameters))
    erased = ", ".join(f'"{_erased(kind)}{"[]" * varargs}"' for kind, varargs in parameters)
    arguments = ", ".join(f"a{index}" for index in range(len(parameters)))
    return declared, f"new String[] {{{erased}}}, new Object[] {{{arguments}}}"


def _parameters(text: str) -> list[tuple[str, bool]] | None:
    """(type, varargs) of each parameter in a parameter list; None if it does not parse."""
    pieces, depth, current = [], 0, ""
    for char in text:
        depth += (char == "<") - (char == ">")
        if char == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces = [piece.strip() for piece in [*pieces, current] if piece.strip()]
    parsed = [_PARAMETER.match(piece) for piece in pieces]
    if not all(parsed):
        return None
    return [(match.group("type").strip(), bool(match.group("varargs"))) for match in parsed]


def _erased(kind: str) -> str:
    """A parameter type as `LedexServe` compares it: no type arguments, no package."""
    without_arguments = re.sub(r"<.*>", "", kind).replace(" ", "")
    return re.split(r"[.$]", without_arguments)[-1]


CODEC = """\
// Added by the sandbox: values as data between the tests' JVM and the program's.
final class LedexCodec {
    private static final int MAX_DEPTH = 100, MAX_LENGTH = 1 << 24;
    private static final byte NULL = 0, LONG = 1, INT = 2, SHORT = 3, BYTE = 4, CHAR = 5, BOOLEAN = 6, DOUBLE = 7,
            FLOAT = 8, STRING = 9, BIG_INTEGER = 10, BIG_DECIMAL = 11, LIST = 12, LINKED_LIST = 13, MAP = 14,
            LINKED_MAP = 15, TREE_MAP = 16, SET = 17, LINKED_SET = 18, TREE_SET = 19, OPTIONAL = 20, TUPLE = 21,
            ARRAY = 22;
    private static final java.util.Map<String, Class<?>> COMPONENTS = java.util.Map.ofEntries(
            java.util.Map.entry("long", long.class), java.util.Map.entry("int", int.class),
            java.util.Map.entry("short", short.class), java.util.Map.entry("byte", byte.class),
            java.util.Map.entry("char", char.class), java.util.Map.entry("boolean", boolean.class),
            java.util.Map.entry("double", double.class), java.util.Map.entry("float", float.class),
            java.util.Map.entry("java.lang.String", String.class), java.util.Map.entry("java.lang.Long", Long.class),
            java.util.Map.entry("java.lang.Integer", Integer.class),
            java.util.Map.entry("java.lang.Double", Double.class),
            java.util.Map.entry("java.lang.Boolean", Boolean.class),
            java.util.Map.entry("java.lang.Character", Character.class),
            java.util.Map.entry("java.lang.Object", Object.class));

    static void write(java.io.DataOutputStream out, Object value, int depth) throws java.io.IOException {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("a value nested more than " + MAX_DEPTH + " deep");
        }
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof Long number) {
            out.writeByte(LONG);
            out.writeLong(number);
        } else if (value instanceof Integer number) {
            out.writeByte(INT);
            out.writeInt(number);
        } else if (value instanceof Short number) {
            out.writeByte(SHORT);
            out.writeShort(number);
        } else if (value instanceof Byte number) {
            out.writeByte(BYTE);
            out.writeByte(number);
        } else if (value instanceof Character character) {
            out.writeByte(CHAR);
            out.writeChar(character);
        } else if (value instanceof Boolean truth) {
            out.writeByte(BOOLEAN);
            out.writeBoolean(truth);
        } else if (value instanceof Double number) {
            out.writeByte(DOUBLE);
            out.writeDouble(number);
        } else if (value instanceof Float number) {
            out.writeByte(FLOAT);
            out.writeFloat(number);
        } else if (value instanceof String text) {
            out.writeByte(STRING);
            writeString(out, text);
        } else if (value instanceof java.math.BigInteger number) {
            out.writeByte(BIG_INTEGER);
            writeString(out, number.toString());
        } else if (value instanceof java.math.BigDecimal number) {
            out.writeByte(BIG_DECIMAL);
            writeString(out, number.toString());
        } else if (value instanceof java.util.List<?> items) {
            out.writeByte(items instanceof java.util.LinkedList ? LINKED_LIST : LIST);
            writeItems(out, items, depth);
        } else if (value instanceof java.util.Set<?> items) {
            out.writeByte(items instanceof java.util.SortedSet ? TREE_SET
                    : items instanceof java.util.LinkedHashSet ? LINKED_SET : SET);
            writeItems(out, items, depth);
        } else if (value instanceof java.util.Map<?, ?> map) {
            out.writeByte(map instanceof java.util.SortedMap ? TREE_MAP
                    : map instanceof java.util.LinkedHashMap ? LINKED_MAP : MAP);
            java.util.List<Object> flat = new java.util.ArrayList<>();
            for (java.util.Map.Entry<?, ?> entry : map.entrySet()) {
                flat.add(entry.getKey());
                flat.add(entry.getValue());
            }
            writeItems(out, flat, depth);
        } else if (value instanceof java.util.Optional<?> optional) {
            out.writeByte(OPTIONAL);
            out.writeBoolean(optional.isPresent());
            if (optional.isPresent()) {
                write(out, optional.get(), depth + 1);
            }
        } else if (value instanceof org.javatuples.Tuple tuple) {
            out.writeByte(TUPLE);
            writeString(out, tuple.getClass().getSimpleName());
            writeItems(out, tuple.toList(), depth);
        } else if (value.getClass().isArray()
                && COMPONENTS.containsKey(value.getClass().getComponentType().getName())) {
            out.writeByte(ARRAY);
            writeString(out, value.getClass().getComponentType().getName());
            java.util.List<Object> items = new java.util.ArrayList<>();
            for (int index = 0; index < java.lang.reflect.Array.getLength(value); index++) {
                items.add(java.lang.reflect.Array.get(value, index));
            }
            writeItems(out, items, depth);
        } else {
            throw new IllegalArgumentException("a value of class " + value.getClass().getName()
                    + " cannot cross between the program and the tests");
        }
    }

    static Object read(java.io.DataInputStream in, int depth) throws java.io.IOException {
        try {
            return readValue(in, depth);
        } catch (RuntimeException malformed) {
            throw new java.io.IOException("malformed data: " + malformed);
        }
    }

    private static Object readValue(java.io.DataInputStream in, int depth) throws java.io.IOException {
        if (depth > MAX_DEPTH) {
            throw new java.io.IOException("malformed data: nested too deeply");
        }
        byte tag = in.readByte();
        switch (tag) {
            case NULL: return null;
            case LONG: return in.readLong();
            case INT: return in.readInt();
            case SHORT: return in.readShort();
            case BYTE: return in.readByte();
            case CHAR: return in.readChar();
            case BOOLEAN: return in.readBoolean();
            case DOUBLE: return in.readDouble();
            case FLOAT: return in.readFloat();
            case STRING: return readString(in);
            case BIG_INTEGER: return new java.math.BigInteger(readString(in));
            case BIG_DECIMAL: return new java.math.BigDecimal(readString(in));
            case LIST: return readItems(in, depth, new java.util.ArrayList<>());
            case LINKED_LIST: return readItems(in, depth, new java.util.LinkedList<>());
            case SET: return readItems(in, depth, new java.util.HashSet<>());
            case LINKED_SET: return readItems(in, depth, new java.util.LinkedHashSet<>());
            case TREE_SET: return readItems(in, depth, new java.util.TreeSet<>());
            case MAP: return readMap(in, depth, new java.util.HashMap<>());
            case LINKED_MAP: return readMap(in, depth, new java.util.LinkedHashMap<>());
            case TREE_MAP: return readMap(in, depth, new java.util.TreeMap<>());
            case OPTIONAL: return in.readBoolean() ? java.util.Optional.of(readValue(in, depth + 1))
                    : java.util.Optional.empty();
            case TUPLE: return tuple(readString(in), readItems(in, depth, new java.util.ArrayList<>()).toArray());
            case ARRAY: {
                Class<?> component = COMPONENTS.get(readString(in));
                Object[] items = readItems(in, depth, new java.util.ArrayList<>()).toArray();
                Object array = java.lang.reflect.Array.newInstance(component, items.length);
                for (int index = 0; index < items.length; index++) {
                    java.lang.reflect.Array.set(array, index, items[index]);
                }
                return array;
            }
            default: throw new java.io.IOException("malformed data: tag " + tag);
        }
    }

    private static Object tuple(String kind, Object[] items) throws java.io.IOException {
        switch (kind) {
            case "Unit": return org.javatuples.Unit.fromArray(items);
            case "Pair": return org.javatuples.Pair.fromArray(items);
            case "Triplet": return org.javatuples.Triplet.fromArray(items);
            case "Quartet": return org.javatuples.Quartet.fromArray(items);
            case "Quintet": return org.javatuples.Quintet.fromArray(items);
            case "Sextet": return org.javatuples.Sextet.fromArray(items);
            case "Septet": return org.javatuples.Septet.fromArray(items);
            case "Octet": return org.javatuples.Octet.fromArray(items);
            case "Ennead": return org.javatuples.Ennead.fromArray(items);
            case "Decade": return org.javatuples.Decade.fromArray(items);
            case "KeyValue": return org.javatuples.KeyValue.fromArray(items);
            case "LabelValue": return org.javatuples.LabelValue.fromArray(items);
            default: throw new java.io.IOException("malformed data: tuple " + kind);
        }
    }

    private static void writeItems(java.io.DataOutputStream out, java.util.Collection<?> items, int depth)
            throws java.io.IOException {
        Object[] copy = items.toArray();
        out.writeInt(copy.length);
        for (Object item : copy) {
            write(out, item, depth + 1);
        }
    }

    private static <C extends java.util.Collection<Object>> C readItems(java.io.DataInputStream in, int depth, C items)
            throws java.io.IOException {
        for (int count = length(in); count > 0; count--) {
            items.add(readValue(in, depth + 1));
        }
        return items;
    }

    private static java.util.Map<Object, Object> readMap(java.io.DataInputStream in, int depth,
            java.util.Map<Object, Object> map) throws java.io.IOException {
        java.util.List<Object> flat = readItems(in, depth, new java.util.ArrayList<>());
        if (flat.size() % 2 != 0) {
            throw new java.io.IOException("malformed data: a map with a key and no value");
        }
        for (int index = 0; index < flat.size(); index += 2) {
            map.put(flat.get(index), flat.get(index + 1));
        }
        return map;
    }

    static void writeString(java.io.DataOutputStream out, String text) throws java.io.IOException {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static String readString(java.io.DataInputStream in) throws java.io.IOException {
        byte[] bytes = new byte[length(in)];
        in.readFully(bytes);
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static int length(java.io.DataInputStream in) throws java.io.IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_LENGTH) {
            throw new java.io.IOException("malformed data: length " + length);
        }
        return length;
    }
}
"""

REMOTE = """\
// Added by the sandbox: the tests' side of the calls into the program, which runs in a JVM of its own.
final class LedexRemote {
    static final int CONSTRUCT = -2, STATIC = -1;  // the target of a call; else an object's handle
    private static java.io.DataOutputStream calls;
    private static java.io.DataInputStream replies;

    static void connect() throws java.io.IOException {
        calls = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                new java.io.FileOutputStream("/proc/self/fd/5")));
        replies = new java.io.DataInputStream(new java.io.BufferedInputStream(
                new java.io.FileInputStream("/proc/self/fd/6")));
    }

    static int construct(String owner, String[] types, Object[] arguments) {
        return (Integer) call(owner, CONSTRUCT, "new", types, arguments);
    }

    static Object call(String owner, int target, String name, String[] types, Object[] arguments) {
        String failure;
        try {
            calls.writeUTF(owner);
            calls.writeInt(target);
            calls.writeUTF(name);
            calls.writeInt(types.length);
            for (String type : types) {
                calls.writeUTF(type);
            }
            calls.writeInt(arguments.length);
            for (Object argument : arguments) {
                LedexCodec.write(calls, argument, 0);
            }
            calls.flush();
            if (replies.readByte() == 0) {
                return LedexCodec.read(replies, 0);
            }
            String raised = LedexCodec.readString(replies), message = LedexCodec.readString(replies);
            failure = "the program raised " + raised + ": " + message + "\\n" + LedexCodec.readString(replies);
        } catch (java.io.IOException broken) {
            failure = "the program's process ended, or sent malformed data, during a call of " + name
                    + " (" + broken + ")";
        }
        throw new RuntimeException(failure);
    }
}
"""

SERVE = """\
// Added by the sandbox: the program's side of the calls the tests make, in a JVM of its own.
public final class LedexServe {
    public static void main(String[] args) throws Throwable {
        java.io.DataInputStream calls = new java.io.DataInputStream(new java.io.BufferedInputStream(
                new java.io.FileInputStream("/proc/self/fd/3")));
        java.io.DataOutputStream replies = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                new java.io.FileOutputStream("/proc/self/fd/4")));
        java.util.Map<String, Class<?>> classes = new java.util.HashMap<>();
        java.util.List<Object> objects = new java.util.ArrayList<>();  // made for the tests, by handle
        while (true) {
            String owner;
            try {
                owner = calls.readUTF();
            } catch (java.io.EOFException end) {
                return;
            }
            int target = calls.readInt();
            String name = calls.readUTF();
            String[] types = new String[calls.readInt()];
            for (int index = 0; index < types.length; index++) {
                types[index] = calls.readUTF();
            }
            Object[] arguments = new Object[calls.readInt()];
            for (int index = 0; index < arguments.length; index++) {
                arguments[index] = LedexCodec.read(calls, 0);
            }
            java.io.ByteArrayOutputStream reply = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(reply);
            try {
                Class<?> type = classes.computeIfAbsent(owner, LedexServe::load);
                Object value;
                if (target == -2) {
                    java.lang.reflect.Constructor<?> constructor = matching(type.getDeclaredConstructors(), types);
                    constructor.setAccessible(true);
                    objects.add(constructor.newInstance(arguments));
                    value = objects.size() - 1;
                } else {
                    java.util.List<java.lang.reflect.Method> named = new java.util.ArrayList<>();
                    for (Class<?> owning = type; owning != null; owning = owning.getSuperclass()) {
                        for (java.lang.reflect.Method method : owning.getDeclaredMethods()) {
                            boolean isStatic = java.lang.reflect.Modifier.isStatic(method.getModifiers());
                            if (method.getName().equals(name) && (target >= 0 || isStatic)) {
                                named.add(method);
                            }
                        }
                    }
                    java.lang.reflect.Method method = matching(named.toArray(new java.lang.reflect.Method[0]), types);
                    method.setAccessible(true);
                    value = method.invoke(target >= 0 ? objects.get(target) : null, arguments);
                }
                out.writeByte(0);
                LedexCodec.write(out, value, 0);
            } catch (Throwable failure) {
                Throwable cause = failure instanceof java.lang.reflect.InvocationTargetException
                        ? failure.getCause() : failure;
                java.io.StringWriter trace = new java.io.StringWriter();
                cause.printStackTrace(new java.io.PrintWriter(trace));
                reply.reset();
                out.writeByte(1);
                LedexCodec.writeString(out, cause.getClass().getName());
                LedexCodec.writeString(out, String.valueOf(cause.getMessage()));
                LedexCodec.writeString(out, trace.toString());
            }
            replies.write(reply.toByteArray());
            replies.flush();
        }
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException missing) {
            throw new IllegalStateException("the program has no class " + name);
        }
    }

    /** The one taking `types` (simple names), or the only one taking as many parameters. */
    private static <E extends java.lang.reflect.Executable> E matching(E[] candidates, String[] types)
            throws NoSuchMethodException {
        java.util.List<E> counted = new java.util.ArrayList<>();
        for (E candidate : candidates) {
            if (candidate.getParameterCount() == types.length) {
                counted.add(candidate);
            }
        }
        for (E candidate : counted) {
            Class<?>[] parameters = candidate.getParameterTypes();
            boolean same = true;
            for (int index = 0; index < parameters.length; index++) {
                String[] parts = parameters[index].getTypeName().split("[.$]");
                same &= parts[parts.length - 1].equals(types[index]);
            }
            if (same || counted.size() == 1) {
                return candidate;
            }
        }
        throw new NoSuchMethodException("the program has nothing of that name taking " + String.join(", ", types));
    }
}
"""
