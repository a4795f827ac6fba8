// A class with main of its own, declared before the class under test, and a public one too.
class Aaa {
    public static void main(String[] args) {}
}

class Problem {
    public static long add(long a, long b) { return 0; }
    public static ArrayList<Long> twice(ArrayList<Long> values) { return values; }
