fn main() {
    // ANCHOR: body
    let who = "world";
    println!("Hello, {who}!");
    // ANCHOR_END: body
}
