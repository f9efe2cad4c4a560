import './base.css';
// The table's own stylesheet, copied from jupyter_exp/widgets/table.css by scripts/vendor.js.
import '../src/vendor/table.css';
