/** Fixed-capacity FIFO: memory stays bounded whatever the sample rate. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.max(1, capacity));
  }

  push(item: T): void {
    const cap = this.items.length;
    this.items[(this.start + this.count) % cap] = item;
    if (this.count < cap) this.count++;
    else this.start = (this.start + 1) % cap;
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.items.length] as T);
    return out;
  }

  get size(): number {
    return this.count;
  }
}
